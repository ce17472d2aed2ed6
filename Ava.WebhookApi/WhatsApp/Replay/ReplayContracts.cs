using System.Text.Json.Serialization;
using Ava.WebhookApi.WhatsApp.Sending;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.WebhookApi.WhatsApp.Replay;

/// <summary>What failed and can be replayed, newest first.</summary>
internal sealed record FailedWork(
    [property: JsonPropertyName("deliveries")] IReadOnlyList<FailedDeliveryItem> Deliveries,
    [property: JsonPropertyName("replies")] IReadOnlyList<FailedReplyItem> Replies,
    [property: JsonPropertyName("turns")] IReadOnlyList<FailedTurnItem> Turns);

/// <summary>A turn the responder refused, or could not answer before the user's window was closing (the fallback went instead).</summary>
/// <param name="TurnId">The message it answers (wamid): the turn's id towards the responder.</param>
/// <param name="WindowOpen">Whether a replay would ask the responder again (see <see cref="ReplayPolicy"/>).</param>
internal sealed record FailedTurnItem(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("turn_id")] string TurnId,
    [property: JsonPropertyName("user_id")] Guid UserId,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("window_closes_at")] DateTimeOffset WindowClosesAt,
    [property: JsonPropertyName("window_open")] bool WindowOpen)
{
    public static FailedTurnItem From(FailedTurn turn, DateTimeOffset now) => new(
        turn.Id, turn.InboundWamid, turn.UserId, turn.CreatedAt, turn.Attempts, turn.Error, turn.ExpiresAt, ReplyRetryPolicy.IsWindowOpen(turn.ExpiresAt, now));
}

/// <summary>A delivery set aside after failing on its own too often.</summary>
internal sealed record FailedDeliveryItem(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("received_at")] DateTimeOffset ReceivedAt,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("error")] string? Error)
{
    public static FailedDeliveryItem From(FailedDelivery delivery) => new(delivery.Id, delivery.ReceivedAt, delivery.Attempts, delivery.Error);
}

/// <summary>A reply Meta refused for good, or whose window closed before it could be sent.</summary>
/// <param name="To">The recipient's phone (else business-scoped user id), all but its last four characters masked.</param>
/// <param name="WindowOpen">Whether a replay would send it (see <see cref="ReplayPolicy"/>).</param>
internal sealed record FailedReplyItem(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("to")] string To,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("error_code")] int? ErrorCode,
    [property: JsonPropertyName("error_title")] string? ErrorTitle,
    [property: JsonPropertyName("window_closes_at")] DateTimeOffset WindowClosesAt,
    [property: JsonPropertyName("window_open")] bool WindowOpen)
{
    public static FailedReplyItem From(FailedReply reply, DateTimeOffset now) => new(
        reply.Id,
        MaskRecipient(reply.To),
        reply.CreatedAt,
        reply.Attempts,
        reply.ErrorCode,
        reply.ErrorTitle,
        reply.ExpiresAt,
        ReplyRetryPolicy.IsWindowOpen(reply.ExpiresAt, now));

    /// <summary>A recipient's phone or business-scoped user id: enough to tell replies apart, not enough to reach the person.</summary>
    internal static string MaskRecipient(string recipient) =>
        recipient.Length <= 4 ? new string('*', recipient.Length) : string.Concat(new string('*', recipient.Length - 4), recipient.AsSpan(recipient.Length - 4));
}

/// <summary>
/// What to replay: the failed deliveries and replies named, or every failed one (<see cref="All"/>, a bounded batch
/// at a time).
/// </summary>
internal sealed record ReplayRequest(
    [property: JsonPropertyName("deliveries")] long[]? Deliveries,
    [property: JsonPropertyName("replies")] long[]? Replies,
    [property: JsonPropertyName("all")] bool All,
    [property: JsonPropertyName("turns")] long[]? Turns = null);

/// <summary>What a replay did.</summary>
internal sealed record ReplayResult(
    [property: JsonPropertyName("deliveries")] DeliveriesReplayed Deliveries,
    [property: JsonPropertyName("replies")] RepliesReplayed Replies,
    [property: JsonPropertyName("turns")] RepliesReplayed Turns);

/// <param name="NotFailedIds">Named deliveries that were not failed (unknown, already replayed, or never failed): left alone.</param>
internal sealed record DeliveriesReplayed(
    [property: JsonPropertyName("replayed")] int Replayed,
    [property: JsonPropertyName("replayed_ids")] IReadOnlyList<long> ReplayedIds,
    [property: JsonPropertyName("not_failed_ids")] IReadOnlyList<long> NotFailedIds);

/// <summary>What a replay did with failed replies, or with failed turns (asked of the responder again).</summary>
/// <param name="NotFailedIds">Named replies (turns) that were not failed (unknown, already replayed, or never failed): left alone.</param>
internal sealed record RepliesReplayed(
    [property: JsonPropertyName("replayed")] int Replayed,
    [property: JsonPropertyName("refused")] int Refused,
    [property: JsonPropertyName("replayed_ids")] IReadOnlyList<long> ReplayedIds,
    [property: JsonPropertyName("refusals")] IReadOnlyList<ReplyRefusal> Refusals,
    [property: JsonPropertyName("not_failed_ids")] IReadOnlyList<long> NotFailedIds);

/// <summary>A failed reply a replay would not send, with Meta's code and title for the reason, and left failed.</summary>
internal sealed record ReplyRefusal(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("error_code")] int ErrorCode,
    [property: JsonPropertyName("error_title")] string ErrorTitle,
    [property: JsonPropertyName("detail")] string Detail);
