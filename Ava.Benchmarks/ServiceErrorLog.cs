using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Ava.Benchmarks;

/// <summary>
/// Counts the errors the stack's services log (the lines the orchestrator forwards from them at Error level),
/// per service, level and logging class, instead of printing them: under a fault they run to thousands of lines of
/// stack traces, and how many there are is worth knowing, each one is not.
/// </summary>
public sealed partial class ServiceErrorLog(string resourcesCategory) : ILoggerProvider
{
    private readonly ConcurrentDictionary<(string Service, string Level, string Source), long> _entries = new();

    /// <summary>Log entries (not lines: a stack trace counts once) per service, level and the class that logged them.</summary>
    public IReadOnlyDictionary<(string Service, string Level, string Source), long> Entries => _entries;

    /// <summary>Forgets what was counted so far (e.g. the errors of the stack's start).</summary>
    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(resourcesCategory + ".", StringComparison.Ordinal)
            ? new Counter(this, categoryName[(resourcesCategory.Length + 1)..])
            : NoLogger.Instance;

    public void Dispose()
    {
    }

    // The first line of an entry of .NET's console logger, colour codes or not: "fail: Namespace.Class[event id]".
    [GeneratedRegex(@"(?:^|\s|\x1b\[[0-9;]*m)(fail|crit)(?:\x1b\[[0-9;]*m)*: (?:[\w`]+\.)*([\w`]+)\[")]
    private static partial Regex EntryStart();

    private sealed class Counter(ServiceErrorLog log, string service) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (EntryStart().Match(formatter(state, exception)) is { Success: true } entry)
            {
                log._entries.AddOrUpdate((service, entry.Groups[1].Value, entry.Groups[2].Value), 1, (_, count) => count + 1);
            }
        }
    }

    private sealed class NoLogger : ILogger
    {
        public static readonly NoLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
