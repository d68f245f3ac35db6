using Docker.DotNet;
using Docker.DotNet.Models;

namespace Slipway.Containers;

/// <summary>
/// One pull through the engine, bounded in time, with the credentials the caller chose for the image's own registry:
/// null when the engine reports it done, else why not, as one printable line. The caller checks that the image is
/// there afterwards (an engine can end a pull without error and without the image).
/// </summary>
public static class ImagePull
{
    public static async Task<string?> RunAsync(IDockerClient docker, string repository, string? reference, AuthConfig? auth,
        TimeSpan timeout, CancellationToken ct)
    {
        var messages = new ErrorCollector();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = reference }, auth, messages, deadline.Token);
        }
        catch (DockerApiException e)
        {
            return OneLine(e.ResponseBody is { Length: > 0 } body ? body : e.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"not done within {timeout.TotalSeconds:0}s";
        }
        return messages.Errors.Count > 0 ? OneLine(string.Join("; ", messages.Errors)) : null;
    }

    /// <summary><c>repo@sha256:x</c> → (repo, sha256:x); <c>repo:tag</c> → (repo, tag); bare repo → (repo, null): what a pull asks for.</summary>
    public static (string Repository, string? Reference) Split(string image)
    {
        var at = image.IndexOf('@');
        if (at > 0) return (image[..at], image[(at + 1)..]);
        var colon = image.LastIndexOf(':');
        return colon > image.LastIndexOf('/') ? (image[..colon], image[(colon + 1)..]) : (image, null);
    }

    /// <summary>Null when the engine has <paramref name="image"/>, else its inspection.</summary>
    public static async Task<ImageInspectResponse?> InspectAsync(IDockerClient docker, string image, CancellationToken ct)
    {
        try { return await docker.Images.InspectImageAsync(image, ct); }
        catch (DockerImageNotFoundException) { return null; }
    }

    // A registry's answer is another party's text: one line, bounded, without control characters.
    private static string OneLine(string s)
    {
        var line = string.Join(' ', s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (line.Length > 1000) line = line[..1000] + "…";
        return new string(line.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    // Progress<T> reports on the thread pool, possibly after the call returned; this collects synchronously.
    private sealed class ErrorCollector : IProgress<JSONMessage>
    {
        public List<string> Errors { get; } = [];

        public void Report(JSONMessage value)
        {
            if (value.Error?.Message is { Length: > 0 } error) lock (Errors) Errors.Add(error);
            else if (value.ErrorMessage is { Length: > 0 } message) lock (Errors) Errors.Add(message);
        }
    }
}
