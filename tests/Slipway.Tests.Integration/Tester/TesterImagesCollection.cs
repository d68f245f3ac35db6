namespace Slipway.Tests.Integration.Tester;

/// <summary>One set of built images for all tester tests (building them is the slow part).</summary>
[CollectionDefinition(Name)]
public sealed class TesterImagesCollection : ICollectionFixture<TesterImages>
{
    public const string Name = "Tester images";
}
