using Slipway.Contracts;

namespace Slipway.Tests.ProbeService;

/// <summary>
/// The probe's input: <see cref="Seq"/> orders events of one key; <see cref="Poison"/> makes the handler throw;
/// <see cref="SqlFault"/> makes its database work fail: <c>statement-timeout</c> (57014), <c>out-of-memory</c> (53200),
/// or <c>deferred-not-null</c> (23502, from a statement deferred to the batch's end). <see cref="Padding"/> only makes
/// the event larger (batch size bounds).
/// </summary>
[EventType("slipway.test.probe.v1")]
public sealed record ProbeEvent(string Key, int Seq, bool Poison = false, int SlowMs = 0, string? SqlFault = null, string? Padding = null);
