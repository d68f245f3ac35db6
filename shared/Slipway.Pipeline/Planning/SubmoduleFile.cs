namespace Slipway.Pipeline.Planning;

/// <summary>Whether the revision declares git submodules (a <c>.gitmodules</c> at its root), which PipelineLib's fetch checks out.</summary>
internal static class SubmoduleFile
{
    public const string Path = ".gitmodules";

    /// <summary>
    /// True when the file is there. One that cannot be read as a plain file (a symbolic link, too large) counts as there:
    /// the builder's submodule step then refuses it with its reason, instead of the plan silently leaving submodules out.
    /// </summary>
    public static bool Exists(BlubberFiles files)
    {
        try { return files.Exists(Path); }
        catch (PipelineConfigException) { return true; }
    }
}
