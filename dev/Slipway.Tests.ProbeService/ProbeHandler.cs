using System.Diagnostics;
using Npgsql;
using Slipway.Contracts;
using Slipway.Messaging;
using Slipway.Storage;

namespace Slipway.Tests.ProbeService;

/// <summary>Records each event in <c>handled</c> and, when <c>Probe:Echo</c> is set, emits it again to <c>probe.out</c> through the outbox.</summary>
public sealed class ProbeHandler(SchemaName schema, IConfiguration configuration) : IIntegrationEventHandler
{
    private readonly string _instance = configuration["Probe:Instance"] ?? Environment.ProcessId.ToString();

    public async Task HandleAsync(EventEnvelope envelope, MessageContext context, CancellationToken ct)
    {
        var probe = envelope.DataAs<ProbeEvent>();
        if (probe.Poison) throw new InvalidOperationException($"poison event {probe.Key}/{probe.Seq}");
        if (probe.SlowMs > 0) await Task.Delay(probe.SlowMs, ct);
        if (probe.SqlFault is { } fault)
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

        await using var cmd = new NpgsqlCommand(
            $"INSERT INTO {schema.Value}.handled (event_id, key, seq, instance, trace_id) VALUES ($1, $2, $3, $4, $5)",
            context.Transaction.Connection, context.Transaction);
        cmd.Parameters.Add(new NpgsqlParameter { Value = envelope.Id });
        cmd.Parameters.Add(new NpgsqlParameter { Value = probe.Key });
        cmd.Parameters.Add(new NpgsqlParameter { Value = probe.Seq });
        cmd.Parameters.Add(new NpgsqlParameter { Value = _instance });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)Activity.Current?.TraceId.ToString() ?? DBNull.Value });
        await cmd.ExecuteNonQueryAsync(ct);

        if (configuration.GetValue<bool>("Probe:Echo"))
        {
            var echo = EventEnvelope.Create(probe, source: "/slipway/probe", subject: probe.Key,
                id: DeterministicId.From("probe-echo", envelope.Id));
            await context.Outbox.AddAsync(context.Transaction, context.Outbox.Topics.Resolve("probe.out"), probe.Key, echo, ct);
        }
    }
}
