using Npgsql;
using NpgsqlTypes;

namespace Ava.WebhookApi.WhatsApp.Storage;

/// <summary>Typed parameters for the stores' set-based statements (arrays that <c>unnest</c> turns into rows).</summary>
internal static class SqlParameters
{
    public static NpgsqlParameter Value(object? value) => new() { Value = value ?? DBNull.Value };

    public static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    public static NpgsqlParameter Texts(IEnumerable<string?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.ToArray() };

    public static NpgsqlParameter Ids(IEnumerable<long> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    /// <summary>Ids of rows a row may refer to, or nulls.</summary>
    public static NpgsqlParameter OptionalIds(IEnumerable<long?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };

    public static NpgsqlParameter Uuids(IEnumerable<Guid?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid, Value = values.ToArray() };

    public static NpgsqlParameter Integers(IEnumerable<int?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = values.ToArray() };

    public static NpgsqlParameter Times(IEnumerable<DateTimeOffset?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = values.ToArray() };

    public static NpgsqlParameter Durations(IEnumerable<TimeSpan> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval, Value = values.ToArray() };

    /// <summary>An array of a Postgres enum mapped on the data source (the type name comes from the mapping).</summary>
    public static NpgsqlParameter Enums<TEnum>(IEnumerable<TEnum> values) where TEnum : struct, Enum => new() { Value = values.ToArray() };

    public static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }
}
