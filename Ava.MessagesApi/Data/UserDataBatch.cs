using Npgsql;

namespace Ava.MessagesApi.Data;

/// <summary>One round trip of statements run as a user (see <see cref="UserDataBatches"/>).</summary>
public sealed class UserDataBatch : IAsyncDisposable
{
    private readonly NpgsqlBatch _batch;

    internal UserDataBatch(NpgsqlBatch batch) => _batch = batch;

    /// <summary>Adds a statement; its parameters are positional (<c>$1</c>, <c>$2</c>, …), numbered per statement.</summary>
    public NpgsqlBatchCommand Add(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        _batch.BatchCommands.Add(command);
        return command;
    }

    /// <summary>
    /// Runs the batch on a pooled connection, which goes back when the reader is disposed. The reader starts at
    /// the result of the first statement added with <see cref="Add"/>.
    /// </summary>
    public async Task<NpgsqlDataReader> ExecuteReaderAsync(CancellationToken cancellationToken)
    {
        var reader = await _batch.ExecuteReaderAsync(cancellationToken);
        try
        {
            await reader.NextResultAsync(cancellationToken);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _batch.DisposeAsync();
}
