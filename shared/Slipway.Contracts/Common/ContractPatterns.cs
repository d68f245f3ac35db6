namespace Slipway.Contracts;

/// <summary>Regular expressions the schemas put on identifiers (as JSON Schema <c>pattern</c>).</summary>
public static class ContractPatterns
{
    /// <summary>A git object id: SHA-1 (40 hex) or SHA-256 (64 hex), lower case.</summary>
    public const string GitSha = "^[0-9a-f]{40}([0-9a-f]{24})?$";

    /// <summary>An OCI content digest with SHA-256.</summary>
    public const string Digest = "^sha256:[0-9a-f]{64}$";

    /// <summary>A local Docker image id (the config digest).</summary>
    public const string ImageId = "^sha256:[0-9a-f]{64}$";

    /// <summary>A Gerrit Change-Id footer value.</summary>
    public const string ChangeId = "^I[0-9a-f]{40}$";

    /// <summary>W3C trace context <c>traceparent</c> header value (version-traceid-parentid-flags).</summary>
    public const string TraceParent = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$";

    /// <summary>A Slipway event type name: <c>slipway.&lt;area&gt;[.&lt;more&gt;].v&lt;N&gt;</c>.</summary>
    public const string EventTypeName = @"^slipway\.[a-z-]+(\.[a-z-]+)*\.v[0-9]+$";

    /// <summary>Docker's tag grammar: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'.</summary>
    public const string DockerTag = "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$";

    /// <summary>A stage, step or pipeline name from <c>.pipeline/config.yaml</c>.</summary>
    public const string Name = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
}
