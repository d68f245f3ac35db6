using System.Runtime.Versioning;

// The real-build tests set Unix file modes and drive the Docker engine: Linux only.
[assembly: SupportedOSPlatform("linux")]
