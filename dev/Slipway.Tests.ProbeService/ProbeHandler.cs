using System.Diagnostics;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage;

namespace Slipway.Tests.ProbeService;

/// <summary>Records each event in <c>handled</c> (deferred to the batch's end with <c>Probe:DeferWrites</c>) and, when <c>Probe:Echo</c> is set, emits it again to <c>probe.out</c> through the outbox.</summary>
public sealed class ProbeHandler(SchemaName schema, IConfiguration configuration) : IIntegrationEventHandler
{
    private readonly string _instance = configuration["Probe:Instance"] ?? Environment.ProcessId.ToString();

    // Probe:DeferWrites: the handled row goes through MessageContext.Writes instead of its own round trip.
    private readonly bool _deferWrites = configuration.GetValue<bool>("Probe:DeferWrites");

    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        var probe = envelope.DataAs<ProbeEvent>();
        if (probe.Poison) throw new InvalidOperationException($"poison event {probe.Key}/{probe.Seq}");
        if (probe.SlowMs > 0) await Task.Delay(probe.SlowMs, ct);
        if (probe.SqlFault == "deferred-not-null")
            // A deferred statement the server rejects (23502) only when the batch's deferred writes are sent.
            context.Writes.Add($"INSERT INTO {schema.Value}.handled (event_id, key, seq, instance) VALUES (NULL, $1, $2, $3)",
                probe.Key, probe.Seq, _instance);
        else if (probe.SqlFault is { } fault)
        {
            // Real Postgres errors, raised by the server in the handler's transaction.
            var sql = fault switch
            {
                "statement-timeout" => "SET LOCAL statement_timeout = '50ms'; SELECT pg_sleep(2)",
                "out-of-memory" => "DO $$ BEGIN RAISE EXCEPTION 'out of memory (probe)' USING ERRCODE = '53200'; END $$",
                _ => throw new InvalidOperationException($"unknown SqlFault {fault}"),
            };
            await using var failing = new NpgsqlCommand(sql, context.Transaction.Connection, context.Transaction);
            await failing.ExecuteNonQueryAsync(ct);
        }

        var insert = $"INSERT INTO {schema.Value}.handled (event_id, key, seq, instance, trace_id) VALUES ($1, $2, $3, $4, $5)";
        var traceId = Activity.Current?.TraceId.ToString();
        if (_deferWrites)
            // Sent with the rest of the batch's writes just before the commit (one round trip per batch).
            context.Writes.Add(insert, envelope.Id, probe.Key, probe.Seq, _instance, traceId);
        else
        {
            await using var cmd = new NpgsqlCommand(insert, context.Transaction.Connection, context.Transaction);
            cmd.Parameters.Add(new NpgsqlParameter { Value = envelope.Id });
            cmd.Parameters.Add(new NpgsqlParameter { Value = probe.Key });
            cmd.Parameters.Add(new NpgsqlParameter { Value = probe.Seq });
            cmd.Parameters.Add(new NpgsqlParameter { Value = _instance });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)traceId ?? DBNull.Value });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        if (configuration.GetValue<bool>("Probe:Echo"))
        {
            var echo = EventEnvelope.Create(probe, source: "/slipway/probe", subject: probe.Key,
                id: DeterministicId.From("probe-echo", envelope.Id));
            await context.Outbox.AddAsync(context.Transaction, context.Outbox.Topics.Resolve("probe.out"), probe.Key, echo, ct);
        }
    }
}
