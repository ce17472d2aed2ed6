using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using StackExchange.Redis;

namespace Ava.MessagesApi;

/// <summary>
/// Postgres or Redis being unreachable is not the caller's fault nor a bug: it is a 503 problem the client can
/// retry, not a 500.
/// </summary>
internal sealed partial class DependencyUnavailableHandler(IProblemDetailsService problemDetails, ILogger<DependencyUnavailableHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        // EF's retrying strategy wraps the last failure; look through the whole chain.
        var unavailable = false;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            unavailable |= current is NpgsqlException or RedisException or TimeoutException;
        }

        if (!unavailable)
        {
            return false;
        }

        LogUnavailable(logger, exception.GetType().Name, exception);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "5";
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "Ava's storage is unavailable right now; try again shortly.",
            },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A dependency is unavailable ({ExceptionType}); answered 503")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType, Exception exception);
}
