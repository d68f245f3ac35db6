namespace Slipway.Deployer.Config;

/// <summary>A configuration-registry operation failed: bad input, bad file content, or git refused.</summary>
public sealed class ConfigRegistryException(string message, Exception? inner = null) : Exception(message, inner);
