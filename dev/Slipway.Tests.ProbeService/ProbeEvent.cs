using Slipway.Contracts;

namespace Slipway.Tests.ProbeService;

/// <summary>The probe's input: <see cref="Seq"/> orders events of one key; <see cref="Poison"/> makes the handler throw.</summary>
[EventType("slipway.test.probe.v1")]
public sealed record ProbeEvent(string Key, int Seq, bool Poison = false, int SlowMs = 0);
