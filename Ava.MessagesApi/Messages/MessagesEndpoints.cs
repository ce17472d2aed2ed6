using System.Globalization;
using Ava.Data.Media;
using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.MessagesApi.Data;
using Ava.MessagesApi.Identity;
using Ava.MessagesApi.Media;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

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
            .WithDescription(
                "limit: 1..200 (default 50). channel: app | whatsapp. The next page, when there is one, is the URL in the "
                + "response's `Link: <…>; rel=\"next\"` header; follow it rather than building URLs (its `before` is an opaque cursor). "
                + "A message that carries a photo, voice note, video, document or sticker has `media` (null otherwise): once its "
                + "`status` is `stored`, its bytes are at `/messages/{id}/media`.")
            .AddOpenApiOperationTransformer(NextPageLinkDocumentation.DescribeLinkHeader);

        return endpoints;
    }

    /// <summary>
    /// How far each of Ava's replies got, kept on its line by the webhook (the furthest of the send's outcome and
    /// Meta's statuses), so that a page reads its rows and nothing else.
    /// </summary>
    private const string DeliveryStatusSql = "m.delivery_status";

    /// <summary>
    /// A media message's media rides along on its row: <c>media_files</c> has at most one row per message, so the
    /// join is one index lookup per row of the page, under the same row-level security as the history.
    /// </summary>
    private static readonly string s_mediaSql = MediaMetadata.Columns("f");

    /// <summary>
    /// One statement for every page, so that each connection prepares it once and its plan seeks straight to the
    /// cursor (the first page starts at <see cref="MessageCursor.EndOfTime"/>). The user filter stands on its own
    /// as well as behind row-level security.
    /// </summary>
    private static readonly string s_pageSql = $"""
        SELECT m.id, m.user_id, m.avatar_id, m.channel, m.role, m.content, m.created_at, {DeliveryStatusSql}, {s_mediaSql}
        FROM messages m
        LEFT JOIN media_files f ON f.message_id = m.id AND f.user_id = m.user_id
        WHERE m.user_id = $1
          AND ($2::message_channel IS NULL OR m.channel = $2)
          AND (m.created_at, m.id) < ($3, $4)
        ORDER BY m.created_at DESC, m.id DESC
        LIMIT $5
        """;

    internal static async Task<Results<Ok<List<MessageResponse>>, ValidationProblem>> GetMessagesAsync(
        string? limit,
        string? before,
        string? channel,
        HttpContext http,
        UserDataBatches userData,
        CurrentUser user,
        CancellationToken cancellationToken)
    {
        Dictionary<string, string[]>? errors = null;

        var pageSize = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxLimit))
        {
            (errors ??= [])["limit"] = [$"limit must be an integer from 1 to {MaxLimit}."];
        }

        MessageCursor? cursor = null;
        if (before is not null && !MessageCursor.TryParse(before, out cursor))
        {
            (errors ??= [])[NextPageLink.CursorParameter] = ["before must be the cursor of a previous page's next link."];
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
            (errors ??= [])["channel"] = ["channel must be app or whatsapp."];
        }

        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var userId = user.Id;
        var (beforeAt, beforeId) = cursor ?? MessageCursor.EndOfTime;

        await using var batch = userData.Create(userId);
        var query = batch.Add(s_pageSql);
        query.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = userId });
        query.Parameters.Add(new NpgsqlParameter<MessageChannel?> { TypedValue = channelFilter });
        query.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = beforeAt });
        query.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = beforeId });
        query.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pageSize + 1 });

        var items = new List<MessageResponse>(pageSize);
        var more = false;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (items.Count == pageSize)
                {
                    more = true;
                    break;
                }

                var id = reader.GetGuid(0);
                items.Add(new MessageResponse(
                    id,
                    reader.GetGuid(1),
                    reader.IsDBNull(2) ? null : reader.GetGuid(2),
                    reader.GetFieldValue<MessageChannel>(3),
                    reader.GetFieldValue<MessageRole>(4),
                    reader.GetString(5),
                    reader.GetFieldValue<DateTimeOffset>(6),
                    reader.IsDBNull(7) ? null : reader.GetFieldValue<DeliveryStatus>(7),
                    reader.IsDBNull(8) ? null : ReadMedia(reader, id)));
            }
        }

        if (more)
        {
            http.Response.Headers.Link = NextPageLink.Format(
                http.Request.PathBase, http.Request.Path, http.Request.QueryString, new MessageCursor(items[^1].CreatedAt, items[^1].Id));
        }

        return TypedResults.Ok(items);
    }

    /// <summary>The media's columns (<see cref="MediaMetadata.Columns"/>), which start at the 9th.</summary>
    private static MediaResponse ReadMedia(NpgsqlDataReader reader, Guid messageId) =>
        MediaResponse.Of(messageId, MediaMetadata.Read(reader, 8));
}
