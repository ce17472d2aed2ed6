using System.Globalization;
using System.Text.Json.Serialization;
using Ava.Linking;
using Ava.MessagesApi.Data;
using Ava.MessagesApi.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Ava.MessagesApi.Me;

/// <summary>A request to link a WhatsApp number to the caller's account.</summary>
public sealed record LinkWhatsAppRequest([property: JsonPropertyName("phone")] string? Phone);

/// <summary>The code to send from the phone, and how.</summary>
/// <param name="CodeWithoutPhone">
/// The code to send instead when writing from a WhatsApp username, without the phone: longer, since it is all the
/// proof there is.
/// </param>
public sealed record WhatsAppLinkChallenge(
    [property: JsonPropertyName("phone")] string Phone,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("instructions")] string Instructions,
    [property: JsonPropertyName("code_without_phone")] string CodeWithoutPhone);

/// <summary>The caller's WhatsApp link.</summary>
/// <param name="Phone">The linked phone; null when the account was linked from WhatsApp without one (a username).</param>
/// <param name="WhatsAppUserId">The linked WhatsApp account's business-scoped user id, when Meta named it.</param>
/// <param name="Username">The account's WhatsApp username at linking, when it had one.</param>
public sealed record WhatsAppLinkStatus(
    [property: JsonPropertyName("linked")] bool Linked,
    [property: JsonPropertyName("phone")] string? Phone,
    [property: JsonPropertyName("whatsapp_user_id")] string? WhatsAppUserId = null,
    [property: JsonPropertyName("username")] string? Username = null)
{
    public static readonly WhatsAppLinkStatus NotLinked = new(false, null);
}

/// <summary>
/// Linking a WhatsApp number to the signed-in user. The API only issues a one-time code; the number is linked when
/// the user sends <c>LINK &lt;code&gt;</c> from it, so nobody can link a phone they cannot send from. A code is the
/// caller's alone and names the phone they claim (see <see cref="LinkCodeIssuer"/>); anonymous sign-ins get none.
/// A user who adopted a WhatsApp username may write without a phone: their WhatsApp account is then linked by its
/// business-scoped user id, on the code alone, and shown by its username.
/// </summary>
internal static partial class WhatsAppLinkEndpoints
{
    public static IEndpointRouteBuilder MapWhatsAppLink(this IEndpointRouteBuilder endpoints)
    {
        var link = endpoints.MapGroup("/me/whatsapp")
            .WithTags("WhatsApp link")
            .RequireAuthorization(IdentityExtensions.AvaUserPolicy);

        link.MapGet("/", GetAsync).WithSummary("Whether a WhatsApp account is linked to the caller, and which: its phone, user id and username.");
        link.MapPost("/", RequestLinkAsync)
            .WithSummary("Issues a one-time code to send from the phone as \"LINK <code>\".")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        link.MapDelete("/", UnlinkAsync).WithSummary("Unlinks the caller's WhatsApp account.");

        return endpoints;
    }

    internal static async Task<Ok<WhatsAppLinkStatus>> GetAsync(UserDataSession session, CurrentUser user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await session.RunAsync((db, token) => ReadLinkAsync(db, user.Id, token), cancellationToken));

    internal static async Task<Results<Accepted<WhatsAppLinkChallenge>, Ok<WhatsAppLinkStatus>, ValidationProblem, ProblemHttpResult>> RequestLinkAsync(
        LinkWhatsAppRequest request,
        UserDataSession session,
        CurrentUser user,
        IConnectionMultiplexer redis,
        TimeProvider clock,
        HttpContext httpContext,
        CancellationToken cancellationToken)
    {
        if (user.IsAnonymous)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Anonymous accounts cannot link a phone",
                detail: "Sign up or sign in with an email or phone first, then link your WhatsApp number.");
        }

        if (!PhoneNumbers.TryParseE164(request.Phone, out var phone))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["phone"] = ["phone must be an international number such as +15551234567."],
            });
        }

        var linked = await session.RunAsync((db, token) => ReadLinkAsync(db, user.Id, token), cancellationToken);
        if (linked.Phone == PhoneNumbers.ToE164(phone))
        {
            return TypedResults.Ok(linked);
        }

        var redisDb = redis.GetDatabase();
        if (await LinkCodeIssuer.TryCountAsync(redisDb, user.Id, phone) is { } wait)
        {
            var seconds = (long)Math.Ceiling(wait.TotalSeconds);
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many link codes",
                detail: $"At most {LinkCodes.CodesPerUser} codes per account and {LinkCodes.CodesPerPhone} per phone are issued "
                    + $"every {LinkCodes.IssuanceWindow.TotalMinutes:0} minutes. Try again in {seconds} seconds.");
        }

        var codes = await LinkCodeIssuer.IssueAsync(
            redisDb, new PendingLink(user.Id, phone, user.AccountLabel), LinkCodeIssuer.NewCandidates(), LinkCodeIssuer.NewCodeWithoutPhone());
        if (codes is null)
        {
            httpContext.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "No free link code",
                detail: "Every code tried is pending for someone else; ask again.");
        }

        return TypedResults.Accepted(
            "/me/whatsapp",
            new WhatsAppLinkChallenge(
                PhoneNumbers.ToE164(phone),
                codes.Code,
                clock.GetUtcNow() + LinkCodes.TimeToLive,
                $"From {PhoneNumbers.ToE164(phone)}, send \"LINK {codes.Code}\" to Ava on WhatsApp within {LinkCodes.TimeToLive.TotalMinutes:0} minutes. "
                    + $"Writing from a WhatsApp username that hides your number? Send \"LINK {codes.CodeWithoutPhone}\" instead.",
                codes.CodeWithoutPhone));
    }

    /// <summary>Answers once the database has the change: the cached lookup is invalidated after it, never failing the request.</summary>
    internal static async Task<NoContent> UnlinkAsync(
        UserDataSession session,
        CurrentUser user,
        IConnectionMultiplexer redis,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var unlinked = await session.RunAsync(async (db, token) =>
        {
            var linked = await db.UserPreferences
                .Where(p => p.UserId == userId)
                .Select(p => new { p.WhatsAppPhone, p.WhatsAppUserId })
                .FirstOrDefaultAsync(token);
            string[] senders = [.. new[] { linked?.WhatsAppPhone, linked?.WhatsAppUserId }.OfType<string>()];
            if (senders.Length > 0)
            {
                await db.UserPreferences.Where(p => p.UserId == userId).ExecuteUpdateAsync(
                    p => p
                        .SetProperty(x => x.WhatsAppPhone, (string?)null)
                        .SetProperty(x => x.WhatsAppUserId, (string?)null)
                        .SetProperty(x => x.WhatsAppUsername, (string?)null)
                        .SetProperty(x => x.UpdatedAt, clock.GetUtcNow()),
                    token);
            }

            return senders;
        }, cancellationToken);

        if (unlinked.Length > 0)
        {
            // The phone's cached lookup and the user id's both go.
            var logger = loggers.CreateLogger(typeof(WhatsAppLinkEndpoints));
            await LinkedUserCache.InvalidateAfterCommitAsync(
                () => redis.GetDatabase().ScriptEvaluateAsync(LinkedUserCache.InvalidateScript, [.. LinkedUserCache.InvalidationKeys(unlinked).Select(k => (RedisKey)k)]),
                (exception, retrying) => LogInvalidationFailed(logger, retrying, exception),
                lifetime.ApplicationStopping);
        }

        return TypedResults.NoContent();
    }

    private static async Task<WhatsAppLinkStatus> ReadLinkAsync(Ava.Data.AvaDbContext db, Guid userId, CancellationToken cancellationToken)
    {
        var link = await db.UserPreferences
            .Where(p => p.UserId == userId)
            .Select(p => new { p.WhatsAppPhone, p.WhatsAppUserId, p.WhatsAppUsername })
            .FirstOrDefaultAsync(cancellationToken);
        return link is null || (link.WhatsAppPhone is null && link.WhatsAppUserId is null)
            ? WhatsAppLinkStatus.NotLinked
            : new WhatsAppLinkStatus(
                true, link.WhatsAppPhone is { } phone ? PhoneNumbers.ToE164(phone) : null, link.WhatsAppUserId, link.WhatsAppUsername);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not invalidate the cached lookups of an unlinked WhatsApp account (retrying: {Retrying})")]
    private static partial void LogInvalidationFailed(ILogger logger, bool retrying, Exception exception);
}
