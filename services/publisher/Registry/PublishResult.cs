using Slipway.Contracts;

namespace Slipway.Publisher.Registry;

/// <summary>
/// What a publish did: the image as the registry now has it (<see cref="Image"/>, what the
/// <c>publish.succeeded</c> event carries), the local image id, the tags it pushed and those the
/// registry already had at this image (all of them on a re-delivered event).
/// </summary>
public sealed record PublishResult(
    ContainerImage Image,
    string ImageId,
    IReadOnlyList<string> Pushed,
    IReadOnlyList<string> AlreadyPresent);
