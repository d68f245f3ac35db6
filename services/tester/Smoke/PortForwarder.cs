namespace Slipway.Tester.Smoke;

/// <summary>
/// The smoke step's port forwarder: a trusted, tiny TCP relay run with <c>perl</c> (present in Debian base images
/// as perl-base), so the service under test can sit on an <c>internal</c> network (no outbound traffic) while
/// the checks still reach it through a port published on 127.0.0.1. One process per connection; half-closes
/// are passed on so HTTP/1.0-style "close to end the body" works.
/// </summary>
public static class PortForwarder
{
    /// <summary>The port the forwarder listens on inside its container.</summary>
    public const int ListenPort = 8080;

    /// <summary>Usage: <c>perl -e Script TARGET_IP TARGET_PORT</c>.</summary>
    public const string Script = """
        use strict; use IO::Socket::INET; use IO::Select;
        $SIG{CHLD} = 'IGNORE';
        my ($target, $port) = @ARGV;
        my $listener = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => 8080, Listen => 128, ReuseAddr => 1) or die "listen: $!";
        $| = 1; print "forwarding :8080 to $target:$port\n";
        while (1) {
          my $client = $listener->accept or next;
          my $pid = fork;
          if (!defined $pid || $pid) { close $client; next; }
          close $listener;
          my $upstream = IO::Socket::INET->new(PeerAddr => $target, PeerPort => $port, Timeout => 5) or exit 0;
          my %peer = ($client => $upstream, $upstream => $client);
          my $select = IO::Select->new($client, $upstream);
          my $open = 2;
          while ($open > 0) {
            my @ready = $select->can_read(300) or exit 0;
            for my $from (@ready) {
              my $to = $peer{$from};
              my $n = sysread($from, my $buffer, 65536);
              if (!$n) { $select->remove($from); shutdown($to, 1); $open--; next; }
              my $off = 0;
              while ($off < $n) { my $w = syswrite($to, $buffer, $n - $off, $off); exit 0 unless defined $w; $off += $w; }
            }
          }
          exit 0;
        }
        """;
}
