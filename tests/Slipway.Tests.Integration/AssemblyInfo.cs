using System.Runtime.Versioning;

// Runs the services against the embedded infrastructure and the Gerrit stand-in (Debian's sshd, git, Docker): Linux only.
[assembly: SupportedOSPlatform("linux")]
