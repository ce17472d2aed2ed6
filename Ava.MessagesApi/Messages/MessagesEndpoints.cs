using System.Globalization;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.MessagesApi.Data;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Ava.MessagesApi.Messages;

internal static class MessagesEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static IEndpointRouteBuilder MapMessages(this IEndpointRouteBuilder endpoints)
    {
        var messages = endpoints.MapGroup("/messages")
            .WithTags("Messages")
            .RequireAuthorization(IdentityExtensions.AvaUserPolicy);

        messages.MapGet("/", GetMessagesAsync)
            .WithSummary("The caller's messages, newest first, a page at a time.")
            .WithDescription("limit: 1..200 (default 50). before: the `next` cursor of the previous page. channel: app | whatsapp.");

        return endpoints;
    }

    internal static async Task<Results<Ok<MessagesPage>, ValidationProblem>> GetMessagesAsync(
        string? limit,
        string? before,
        string? channel,
        UserDataSession session,
        CurrentUser user,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();

        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            errors["limit"] = [$"limit must be an integer from 1 to {MaxLimit}."];
        }

        MessageCursor? cursor = null;
        if (before is not null && !MessageCursor.TryParse(before, out cursor))
        {
            errors["before"] = ["before must be the next cursor of a previous page."];
        }

        MessageChannel? channelFilter = channel?.ToLowerInvariant() switch
        {
            null => null,
            "app" => MessageChannel.App,
            "whatsapp" => MessageChannel.WhatsApp,
            _ => null,
        };
        if (channel is not null && channelFilter is null)
        {
            errors["channel"] = ["channel must be app or whatsapp."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var userId = user.Id;
        var beforeAt = cursor?.CreatedAt;
        var beforeId = cursor?.Id;
        var take = pageSize + 1;

        var rows = await session.RunAsync((db, token) => db.Database.SqlQuery<MessageRow>($"""
            SELECT m.id AS "Id", m.user_id AS "UserId", m.avatar_id AS "AvatarId", m.channel AS "Channel", m.role AS "Role",
                   m.content AS "Content", m.created_at AS "CreatedAt",
                   (SELECT greatest(r.status, (SELECT max(e.status) FROM delivery_status_events e WHERE e.wamid = r.wamid))
                    FROM outbound_replies r WHERE r.message_id = m.id) AS "DeliveryStatus"
            FROM messages m
            WHERE m.user_id = {userId}
              AND ({channelFilter}::message_channel IS NULL OR m.channel = {channelFilter})
              AND ({beforeAt}::timestamptz IS NULL OR (m.created_at, m.id) < ({beforeAt}, {beforeId}))
            ORDER BY m.created_at DESC, m.id DESC
            LIMIT {take}
            """).ToListAsync(token), cancellationToken);

        var page = rows.Take(pageSize)
            .Select(r => new MessageResponse(r.Id, r.UserId, r.AvatarId, r.Channel, r.Role, r.Content, r.CreatedAt, r.DeliveryStatus))
            .ToList();
        var next = rows.Count > pageSize ? new MessageCursor(page[^1].CreatedAt, page[^1].Id).ToString() : null;
        return TypedResults.Ok(new MessagesPage(page, next));
    }

    private sealed class MessageRow
    {
        public Guid Id { get; set; }

        public Guid UserId { get; set; }

        public Guid? AvatarId { get; set; }

        public MessageChannel Channel { get; set; }

        public MessageRole Role { get; set; }

        public string Content { get; set; } = "";

        public DateTimeOffset CreatedAt { get; set; }

        public DeliveryStatus? DeliveryStatus { get; set; }
    }
}
