using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Slipway.Deployer.Api;

/// <summary>Who calls the deployer's API: the user a bearer token belongs to (Deployer:ApiTokens), compared in constant time.</summary>
public static class ApiCaller
{
    public static string? Identify(HttpRequest request, IReadOnlyDictionary<string, string> tokens)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal)) return null;
        var presented = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
        string? user = null;
        // Compare against every token, without stopping early, so timing does not tell how much matched.
        foreach (var (token, name) in tokens)
            if (CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(token))) user = name;
        return user;
    }
}
