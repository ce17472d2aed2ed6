using System.Globalization;
using Ava.WebhookApi.WhatsApp.Claims;
using Ava.WebhookApi.WhatsApp.Replay;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ava.WebhookApi.Admin;

/// <summary>
/// What an operator does by hand: see what failed for good and replay it. Service-role tokens only (see
/// <see cref="AdminAccessExtensions"/>); the rest of the webhook is not behind this.
/// </summary>
internal static class AdminEndpoints
{
    public const int DefaultLimit = 50;

    public const string Prefix = "/admin";

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(Prefix)
            .WithTags("Admin")
            .RequireAuthorization(AdminAccessExtensions.ServiceRolePolicy);

        admin.MapGet("/failed", ListFailedAsync)
            .WithSummary("Failed deliveries and failed replies, newest first.")
            .WithDescription($"limit: 1..{FailedWorkReplay.MaxBatch} of each (default {DefaultLimit}). Requires a service-role token.");

        admin.MapPost("/replay", ReplayAsync)
            .WithSummary("Re-queues failed deliveries and failed replies: those named, or all (a batch at a time).")
            .WithDescription(
                """Body: {"deliveries":[ids],"replies":[ids]} or {"all":true}. A reply whose 24-hour window has closed is refused with Meta's reason (131047) and stays failed. Requires a service-role token.""");

        return endpoints;
    }

    internal static async Task<Results<Ok<FailedWork>, ValidationProblem, ProblemHttpResult>> ListFailedAsync(
        string? limit, FailedWorkReplay replay, CancellationToken cancellationToken)
    {
        var count = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count) || count is < 1 or > FailedWorkReplay.MaxBatch))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["limit"] = [$"limit must be an integer from 1 to {FailedWorkReplay.MaxBatch}."],
            });
        }

        try
        {
            return TypedResults.Ok(await replay.ListAsync(count, cancellationToken));
        }
        catch (Exception exception) when (Outages.IsOutage(exception) && !cancellationToken.IsCancellationRequested)
        {
            return Unavailable();
        }
    }

    internal static async Task<Results<Ok<ReplayResult>, ValidationProblem, ProblemHttpResult>> ReplayAsync(
        ReplayRequest request, FailedWorkReplay replay, CancellationToken cancellationToken)
    {
        var named = (request.Deliveries?.Length ?? 0) + (request.Replies?.Length ?? 0) + (request.Turns?.Length ?? 0);
        var problem = (request.All, named) switch
        {
            (true, > 0) => "Either name deliveries, replies and turns, or ask for all, not both.",
            (false, 0) => "Name the deliveries, replies and turns to replay, or ask for all: {\"all\":true}.",
            (false, > FailedWorkReplay.MaxBatch) => $"At most {FailedWorkReplay.MaxBatch} ids at a time.",
            _ => null,
        };
        if (problem is not null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [problem] });
        }

        try
        {
            var result = request.All
                ? await replay.ReplayAsync(deliveryIds: null, replyIds: null, turnIds: null, cancellationToken)
                : await replay.ReplayAsync(request.Deliveries ?? [], request.Replies ?? [], request.Turns ?? [], cancellationToken);
            return TypedResults.Ok(result);
        }
        catch (Exception exception) when (Outages.IsOutage(exception) && !cancellationToken.IsCancellationRequested)
        {
            return Unavailable();
        }
    }

    private static ProblemHttpResult Unavailable() => TypedResults.Problem(
        statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "Temporarily unavailable",
        detail: "Postgres cannot be reached right now. A replay is safe to repeat: try again shortly.");
}
