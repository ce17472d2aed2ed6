using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Ava.AppHost.WhatsApp;

/// <summary>
/// "Replay failed" on the webhook in the dashboard: re-queues every failed delivery and every failed reply whose
/// 24-hour window is still open, through the webhook's own admin endpoint, with an admin token minted for the call
/// from the admin key.
/// </summary>
public static class ReplayCommandExtensions
{
    public const string ReplayCommandName = "replay-failed";

    private static readonly TimeSpan s_tokenLifetime = TimeSpan.FromMinutes(1);

    public static IResourceBuilder<ProjectResource> WithReplayCommand(
        this IResourceBuilder<ProjectResource> webhook, IResourceBuilder<ParameterResource> adminSecret) =>
        // The HTTP flavour of WithCommand: it resolves the webhook's endpoint and enables the command once the webhook is healthy.
        webhook.WithHttpCommand(
            "/admin/replay",
            "Replay failed",
            commandName: ReplayCommandName,
            commandOptions: new HttpCommandOptions
            {
                Description = "Re-queues failed deliveries, replies and turns; those whose 24-hour window has closed are refused (131047).",
                ConfirmationMessage = "Re-queue every failed delivery, and every failed reply whose 24-hour window is still open?",
                IconName = "ArrowRepeatAll",
                PrepareRequest = async context =>
                {
                    var secret = await adminSecret.Resource.GetValueAsync(context.CancellationToken)
                        ?? throw new InvalidOperationException($"The {adminSecret.Resource.Name} parameter has no value.");
                    context.Request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ServiceRoleToken.Create(secret, s_tokenLifetime));
                    context.Request.Content = new StringContent("""{"all":true}""", Encoding.UTF8, "application/json");
                },
                GetCommandResult = async context =>
                {
                    var body = await context.Response.Content.ReadAsStringAsync(context.CancellationToken);
                    return context.Response.IsSuccessStatusCode
                        ? CommandResults.Success(Summarize(body), body, CommandResultFormat.Json)
                        : CommandResults.Failure(string.Create(
                            CultureInfo.InvariantCulture, $"The webhook answered {(int)context.Response.StatusCode}: {body}"));
                },
            });

    /// <summary>
    /// One line from the webhook's report, e.g. "Replayed 2 failed deliveries and 1 failed reply; refused 1 failed
    /// reply (131047 Re-engagement message)."
    /// </summary>
    internal static string Summarize(string report)
    {
        using var json = JsonDocument.Parse(report);
        var deliveries = json.RootElement.GetProperty("deliveries").GetProperty("replayed").GetInt32();
        var replies = json.RootElement.GetProperty("replies");
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"Replayed {Count(deliveries, "delivery", "deliveries")} and {Count(replies.GetProperty("replayed").GetInt32(), "reply", "replies")}");

        // Turns a responder refused: asked again, their answers sent after the apology that went.
        if (json.RootElement.TryGetProperty("turns", out var turns) && turns.GetProperty("replayed").GetInt32() is > 0 and var turnsReplayed)
        {
            summary += string.Create(CultureInfo.InvariantCulture, $"; asked the responder again about {Count(turnsReplayed, "turn", "turns")}");
        }

        var refusals = Refusals(replies, "reply", "replies")
            .Concat(json.RootElement.TryGetProperty("turns", out turns) ? Refusals(turns, "turn", "turns") : [])
            .ToList();
        return refusals.Count == 0 ? summary + "." : $"{summary}; refused {string.Join(", ", refusals)}.";
    }

    private static IEnumerable<string> Refusals(JsonElement replayed, string one, string many) => replayed.GetProperty("refusals").EnumerateArray()
        .GroupBy(r => (Code: r.GetProperty("error_code").GetInt32(), Title: r.GetProperty("error_title").GetString()))
        .Select(g => string.Create(CultureInfo.InvariantCulture, $"{Count(g.Count(), one, many)} ({g.Key.Code} {g.Key.Title})"));

    private static string Count(int count, string one, string many) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} failed {(count == 1 ? one : many)}");
}
