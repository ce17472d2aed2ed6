using Ava.WhatsApp.Contracts;
using Ava.WhatsApp.Testing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Ava.WhatsAppSimulator;

/// <summary>
/// How tests and developers drive the simulator: see what Ava sent and marked read, make sends fail or the token
/// expire, deliver webhooks.
/// </summary>
internal static class SimulatorControlEndpoints
{
    public const string WebhookClientName = "ava-webhook";

    public const string Prefix = "/simulator";
    private const string SendsPath = "/sends";
    private const string ReadsPath = "/reads";
    public const string MediaRequestsPath = "/media-requests";

    /// <summary>
    /// What the chat page asks every second: what Ava sent to the phone, which of its messages Ava read, and whether Ava
    /// fetched the media sent. Kept out of the traces, where a trace per poll would bury the round trips through Ava.
    /// </summary>
    public static bool IsChatPagePolling(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && request.Path.StartsWithSegments(Prefix, out var rest)
        && (rest.StartsWithSegments(SendsPath) || rest.StartsWithSegments(ReadsPath) || rest.StartsWithSegments(MediaRequestsPath));

    public static IEndpointRouteBuilder MapSimulatorControl(this IEndpointRouteBuilder endpoints)
    {
        var simulator = endpoints.MapGroup(Prefix).WithTags("Simulator");

        simulator.MapGet(SendsPath, (GraphApiState state, string? to) =>
            TypedResults.Ok(state.Sends.Where(s => to is null || s.To == to).ToList()))
            .WithSummary("Every send Ava made, optionally to one recipient.");

        simulator.MapGet(ReadsPath, (GraphApiState state, string? from, string? messageId) =>
            TypedResults.Ok(state.Reads.Where(r => (from is null || r.From == from) && (messageId is null || r.MessageId == messageId)).ToList()))
            .WithSummary("Every read receipt (and typing indicator) Ava sent, optionally for one writer's messages or one message.");

        simulator.MapPost("/failures", (InjectedFailure failure, GraphApiState state) =>
        {
            state.Inject(failure);
            return TypedResults.NoContent();
        }).WithSummary("Answer the next sends (to one recipient, or any), or the next read receipts, with an HTTP status and Meta error code.");

        simulator.MapGet("/token", (GraphApiState state) => TypedResults.Ok(new TokenValidity(state.TokenValid)))
            .WithSummary("Whether the access token is accepted.");

        simulator.MapPost("/token", (TokenValidity token, GraphApiState state) =>
        {
            state.TokenValid = token.Valid;
            return TypedResults.NoContent();
        }).WithSummary("{\"valid\":false} makes the access token expire: every call is refused with Meta's code 190 until {\"valid\":true}.");

        simulator.MapPost("/deliveries", DeliverRawAsync)
            .WithSummary("Signs the body with the app secret and posts it to Ava's webhook, as Meta would.");

        simulator.MapPost("/messages", DeliverTextAsync)
            .WithSummary("Delivers a text message to Ava as Meta would: from a phone, or from a user who adopted a username (userId, no phone).");

        simulator.MapPost("/user-id-updates", DeliverUserIdUpdateAsync)
            .WithSummary("Tells Ava that a user's business-scoped user id was replaced (Meta's user_id_update), as when they change their phone number.");

        return endpoints;
    }

    private static async Task<Ok<DeliveryResult>> DeliverRawAsync(HttpRequest request, WebhookDeliverer deliverer)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return TypedResults.Ok(await deliverer.DeliverAsync(buffer.ToArray(), request.HttpContext.RequestAborted));
    }

    private static async Task<Results<Ok<DeliveryResult>, ValidationProblem>> DeliverTextAsync(
        TextMessageToDeliver message,
        WebhookDeliverer deliverer,
        GraphApiState state,
        IOptions<SimulatorOptions> options,
        TimeProvider clock)
    {
        if ((message.From ?? message.UserId) is not { Length: > 0 } writer)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["from"] = ["A message comes from a phone (from), a business-scoped user id (userId), or both."],
            });
        }

        var result = await DeliverMessageAsync(
            wamid => WebhookNotifications.Text(message.From, message.Text, wamid, clock.GetUtcNow(), message.UserId),
            writer,
            message.PhoneNumberId,
            change => message is { UserId: { } userId, Username: { } username } ? change.WithUsername(userId, username) : change,
            deliverer,
            state,
            options);
        return TypedResults.Ok(result);
    }

    /// <summary>
    /// Delivers one message from a customer to Ava as Meta would, under a new wamid, and remembers who wrote it (so that
    /// its read receipt shows in that chat).
    /// </summary>
    /// <param name="message">The message under the wamid given.</param>
    /// <param name="shape">Adds to the change what the message alone does not say (e.g. the sender's username).</param>
    internal static async Task<DeliveryResult> DeliverMessageAsync(
        Func<string, WebhookMessage> message,
        string writer,
        string? phoneNumberId,
        Func<WebhookChange, WebhookChange> shape,
        WebhookDeliverer deliverer,
        GraphApiState state,
        IOptions<SimulatorOptions> options)
    {
        var wamid = $"wamid.SIMIN{Guid.NewGuid():N}";
        state.RememberWriter(wamid, writer);
        var change = shape(WebhookNotifications.Messages(phoneNumberId ?? options.Value.PhoneNumberId, message(wamid)));
        var result = await deliverer.DeliverAsync(WebhookNotifications.Serialize(change), CancellationToken.None);
        return result with { Wamid = wamid };
    }

    private static async Task<Ok<DeliveryResult>> DeliverUserIdUpdateAsync(
        UserIdUpdateToDeliver update, WebhookDeliverer deliverer, IOptions<SimulatorOptions> options, TimeProvider clock)
    {
        var body = WebhookNotifications.Serialize(WebhookNotifications.UserIdUpdate(
            update.PhoneNumberId ?? options.Value.PhoneNumberId, update.Previous, update.Current, clock.GetUtcNow(), update.Phone));
        return TypedResults.Ok(await deliverer.DeliverAsync(body, CancellationToken.None));
    }
}

/// <summary>A text message to deliver to Ava.</summary>
/// <param name="From">The sender's phone; null plays a user who adopted a username and whose phone Meta withholds.</param>
/// <param name="UserId">The sender's business-scoped user id (e.g. <c>US.13491208655302741918</c>), which Meta sends with every message.</param>
/// <param name="Username">The sender's username, shown on their contact.</param>
public sealed record TextMessageToDeliver(string? From, string Text, string? PhoneNumberId = null, string? UserId = null, string? Username = null);

/// <summary>A user's business-scoped user id replaced by another.</summary>
/// <param name="Phone">The user's phone, when Meta shares it.</param>
public sealed record UserIdUpdateToDeliver(string Previous, string Current, string? Phone = null, string? PhoneNumberId = null);
