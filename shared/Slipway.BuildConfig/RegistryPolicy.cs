namespace Slipway.BuildConfig;

/// <summary>
/// The default image policy: every image the build pulls — each stage's base and each <c>COPY --from</c> image
/// (from <c>copies</c> and builder <c>requirements</c>) and each <c>RUN --mount</c> image (builder <c>mounts</c>) of every variant built — must come from one of the allowed
/// registries, matched by host and port exactly (<see cref="ImageReference"/>). Checked on the compiled plan, so
/// nothing the Dockerfile pulls escapes it. A stage of the same build is not an image and needs no check; a scratch
/// base pulls nothing. An empty list allows no image at all (scratch only).
/// </summary>
public sealed class RegistryPolicy
{
    public RegistryPolicy(IEnumerable<string> allowedRegistries)
    {
        var list = new List<string>();
        foreach (var entry in allowedRegistries)
            list.Add(ImageReference.NormalizeRegistryEntry(entry)
                ?? throw new BlubberException(BlubberErrorKind.PolicyLoad, $"cannot load policy: \"{UnsafePathException.Printable(entry)}\" is not a registry host[:port]"));
        Allowed = list.Distinct().ToList();
    }

    /// <summary>Normalised <c>host[:port]</c> entries.</summary>
    public IReadOnlyList<string> Allowed { get; }

    public void Enforce(BuildPlan plan)
    {
        var stages = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stage in plan.Stages)
        {
            if (stage.Base.Length > 0 && !stages.Contains(stage.Base)) Check(stage.Base, $"variants.{stage.Name}.base");
            foreach (var copy in stage.Phases.SelectMany(p => p.Instructions).OfType<CopyInstruction>())
                if (copy.From is { } from && !stages.Contains(from)) Check(from, $"variants.{stage.Name}.copies");
            foreach (var mount in stage.Phases.SelectMany(p => p.Instructions).OfType<RunInstruction>().SelectMany(r => r.Mounts).OfType<BindMount>())
                if (mount.From is { } from && !stages.Contains(from)) Check(from, $"variants.{stage.Name}.mounts");
            stages.Add(stage.Name);
        }
    }

    /// <summary>Checks one image before anything pulls it (the builder reading a base image's config); <paramref name="path"/> names where it came from.</summary>
    public void EnforceImage(string image, string path) => Check(image, path);

    private void Check(string image, string path)
    {
        var allowed = Allowed.Count == 0 ? "none: only scratch images may be built" : string.Join(", ", Allowed);
        var reference = ImageReference.TryParse(image)
            ?? throw new BlubberException(BlubberErrorKind.PolicyViolation,
                $"image \"{UnsafePathException.Printable(image)}\" is not a valid image reference, so its registry is unknown (allowed registries: {allowed})", path);
        if (!Allowed.Any(reference.IsFrom))
            throw new BlubberException(BlubberErrorKind.PolicyViolation,
                $"image \"{image}\" comes from registry \"{reference.Registry}\", which is not allowed (allowed registries: {allowed})", path);
    }
}
