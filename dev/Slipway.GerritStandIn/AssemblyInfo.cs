using System.Runtime.Versioning;

// Drives Debian's sshd and git: Linux only.
[assembly: SupportedOSPlatform("linux")]
