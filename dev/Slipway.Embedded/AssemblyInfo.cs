using System.Runtime.Versioning;

// Everything here drives Debian tools (apt, dpkg, pg_ctl, dockerd): Linux only.
[assembly: SupportedOSPlatform("linux")]
