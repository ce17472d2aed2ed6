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
public sealed record WhatsAppLinkChallenge(
    [property: JsonPropertyName("phone")] string Phone,
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("instructions")] string Instructions);

/// <summary>The caller's WhatsApp link.</summary>
public sealed record WhatsAppLinkStatus(
    [property: JsonPropertyName("linked")] bool Linked,
    [property: JsonPropertyName("phone")] string? Phone);

/// <summary>
/// Linking a WhatsApp number to the signed-in user. The API only issues a one-time code; the number is linked when
/// the user sends <c>LINK &lt;code&gt;</c> from it, so nobody can link a phone they cannot send from. A code is the
/// caller's alone and names the phone they claim (see <see cref="PhoneLinkCodeIssuer"/>); anonymous sign-ins get none.
/// </summary>
internal static partial class WhatsAppLinkEndpoints
{
    public static IEndpointRouteBuilder MapWhatsAppLink(this IEndpointRouteBuilder endpoints)
    {
        var link = endpoints.MapGroup("/me/whatsapp")
            .WithTags("WhatsApp link")
            .RequireAuthorization(IdentityExtensions.AvaUserPolicy);

        link.MapGet("/", GetAsync).WithSummary("Whether a WhatsApp number is linked to the caller, and which.");
        link.MapPost("/", RequestLinkAsync)
            .WithSummary("Issues a one-time code to send from the phone as \"LINK <code>\".")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        link.MapDelete("/", UnlinkAsync).WithSummary("Unlinks the caller's WhatsApp number.");

        return endpoints;
    }

    internal static async Task<Ok<WhatsAppLinkStatus>> GetAsync(UserDataSession session, CurrentUser user, CancellationToken cancellationToken)
    {
        var phone = await session.RunAsync((db, token) => LinkedPhoneAsync(db, user.Id, token), cancellationToken);
        return TypedResults.Ok(new WhatsAppLinkStatus(phone is not null, phone is null ? null : PhoneNumbers.ToE164(phone)));
    }

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

        var linked = await session.RunAsync((db, token) => LinkedPhoneAsync(db, user.Id, token), cancellationToken);
        if (linked == phone)
        {
            return TypedResults.Ok(new WhatsAppLinkStatus(true, PhoneNumbers.ToE164(phone)));
        }

        var redisDb = redis.GetDatabase();
        if (await PhoneLinkCodeIssuer.TryCountAsync(redisDb, user.Id, phone) is { } wait)
        {
            var seconds = (long)Math.Ceiling(wait.TotalSeconds);
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                statusCode: StatusCodes.Status429TooManyRequests,
                title: "Too many link codes",
                detail: $"At most {PhoneLinkCodes.CodesPerUser} codes per account and {PhoneLinkCodes.CodesPerPhone} per phone are issued "
                    + $"every {PhoneLinkCodes.IssuanceWindow.TotalMinutes:0} minutes. Try again in {seconds} seconds.");
        }

        var code = await PhoneLinkCodeIssuer.IssueAsync(
            redisDb, new PendingPhoneLink(user.Id, phone, user.AccountLabel), PhoneLinkCodeIssuer.NewCandidates());
        if (code is null)
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
                code,
                clock.GetUtcNow() + PhoneLinkCodes.TimeToLive,
                $"From {PhoneNumbers.ToE164(phone)}, send \"LINK {code}\" to Ava on WhatsApp within {PhoneLinkCodes.TimeToLive.TotalMinutes:0} minutes."));
    }

    /// <summary>Answers once the database has the change: the cached lookup is invalidated after it, never failing the request.</summary>
    internal static async Task<NoContent> UnlinkAsync(
        UserDataSession session,
        CurrentUser user,
        IConnectionMultiplexer redis,
        IHostApplicationLifetime lifetime,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var userId = user.Id;
        var unlinked = await session.RunAsync(async (db, token) =>
        {
            var phone = await LinkedPhoneAsync(db, userId, token);
            if (phone is not null)
            {
                await db.UserPreferences.Where(p => p.UserId == userId).ExecuteUpdateAsync(
                    p => p.SetProperty(x => x.WhatsAppPhone, (string?)null).SetProperty(x => x.UpdatedAt, DateTimeOffset.UtcNow),
                    token);
            }

            return phone;
        }, cancellationToken);

        if (unlinked is not null)
        {
            var logger = loggers.CreateLogger(typeof(WhatsAppLinkEndpoints));
            await LinkedUserCache.InvalidateAfterCommitAsync(
                () => redis.GetDatabase().ScriptEvaluateAsync(LinkedUserCache.InvalidateScript, [.. LinkedUserCache.InvalidationKeys([unlinked]).Select(k => (RedisKey)k)]),
                (exception, retrying) => LogInvalidationFailed(logger, retrying, exception),
                lifetime.ApplicationStopping);
        }

        return TypedResults.NoContent();
    }

    private static Task<string?> LinkedPhoneAsync(Ava.Data.AvaDbContext db, Guid userId, CancellationToken cancellationToken) =>
        db.UserPreferences.Where(p => p.UserId == userId).Select(p => p.WhatsAppPhone).FirstOrDefaultAsync(cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not invalidate the cached lookup of an unlinked phone (retrying: {Retrying})")]
    private static partial void LogInvalidationFailed(ILogger logger, bool retrying, Exception exception);
}
