using System.Security.Cryptography;
using System.Text;
using Slipway.Gerrit.Ssh;

namespace Slipway.Tests.Unit.Gerrit;

public sealed class KnownHostsTests : IDisposable
{
    private readonly string _file = Path.GetTempFileName();
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(51);
    private static readonly byte[] OtherKey = RandomNumberGenerator.GetBytes(51);

    [Fact]
    public void A_listed_key_for_host_and_port_is_trusted_and_anything_else_is_not()
    {
        File.WriteAllText(_file, $"""
            # comment
            [127.0.0.1]:29418,gerrit.example.org ssh-ed25519 {Convert.ToBase64String(Key)} gerrit
            @revoked [127.0.0.1]:29419 ssh-ed25519 {Convert.ToBase64String(Key)}
            garbage line
            """);
        var hosts = KnownHosts.Load(_file);

        Assert.True(hosts.Trusts("127.0.0.1", 29418, "ssh-ed25519", Key));
        Assert.True(hosts.Trusts("gerrit.example.org", 22, "ssh-ed25519", Key));
        Assert.False(hosts.Trusts("127.0.0.1", 29418, "ssh-ed25519", OtherKey)); // a changed key is refused
        Assert.False(hosts.Trusts("127.0.0.1", 29418, "ssh-rsa", Key));
        Assert.False(hosts.Trusts("127.0.0.1", 29419, "ssh-ed25519", Key)); // @revoked entries are never trusted
        Assert.False(hosts.Trusts("127.0.0.2", 29418, "ssh-ed25519", Key));
    }

    [Fact]
    public void Hashed_host_names_are_matched()
    {
        var salt = RandomNumberGenerator.GetBytes(20);
        var hash = HMACSHA1.HashData(salt, Encoding.ASCII.GetBytes("[127.0.0.1]:29418"));
        File.WriteAllText(_file, $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)} ssh-ed25519 {Convert.ToBase64String(Key)}\n");
        var hosts = KnownHosts.Load(_file);

        Assert.True(hosts.Trusts("127.0.0.1", 29418, "ssh-ed25519", Key));
        Assert.False(hosts.Trusts("127.0.0.1", 29419, "ssh-ed25519", Key));
    }

    public void Dispose() => File.Delete(_file);
}
