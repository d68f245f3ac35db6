using System.Runtime.Versioning;

// The CLI drives the Linux-only embedded stack (Slipway.Embedded).
[assembly: SupportedOSPlatform("linux")]
