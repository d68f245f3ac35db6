using Npgsql;

namespace Slipway.Messaging;

/// <summary>
/// Statements a handler leaves to the end of its transaction: the consumer host runs every handler of a batch, then
/// sends all their deferred statements, in the order added, in one round trip together with the batch's outbox rows,
/// and then commits. Same transaction as the inbox rows and the handler's other effects, so they commit or roll back
/// together; a statement that fails fails the batch, which the host retries one event at a time (then only that
/// event's statements run, so the failure lands on the event that caused it).
/// Use it for writes that nothing in the same batch reads back (records appended, counters bumped): a statement
/// run directly on <see cref="MessageContext.Transaction"/> runs before every deferred one of the batch.
/// </summary>
public sealed class DeferredWrites
{
    private readonly List<NpgsqlBatchCommand> _commands = [];
    private bool _sent;

    /// <summary>Adds a statement to run before the transaction commits.</summary>
    public void Add(NpgsqlBatchCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        lock (_commands)
        {
            // A handler that kept the object past its own call would otherwise lose the write without a word.
            if (_sent) throw new InvalidOperationException("the deferred writes of this transaction were already sent");
            _commands.Add(command);
        }
    }

    /// <summary>Adds <paramref name="sql"/> with positional parameters ($1, $2, ...); a null value is sent as SQL NULL.</summary>
    public void Add(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters) command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        Add(command);
    }

    /// <summary>Moves the statements into <paramref name="batch"/> (in the order added); nothing can be added afterwards.</summary>
    internal int MoveTo(NpgsqlBatch batch)
    {
        lock (_commands)
        {
            _sent = true;
            foreach (var command in _commands) batch.BatchCommands.Add(command);
            var count = _commands.Count;
            _commands.Clear();
            return count;
        }
    }
}
