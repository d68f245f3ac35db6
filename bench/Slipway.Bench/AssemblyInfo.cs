using System.Runtime.Versioning;

// Drives the embedded infrastructure and the Gerrit stand-in: Linux only.
[assembly: SupportedOSPlatform("linux")]
