using System.Runtime.Versioning;

// The stand-in drives Debian's sshd and git: Linux only.
[assembly: SupportedOSPlatform("linux")]
