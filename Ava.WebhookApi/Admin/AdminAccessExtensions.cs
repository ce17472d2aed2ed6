using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ava.WebhookApi.Admin;

/// <summary>
/// Authentication for the admin endpoints only. Nothing else of the webhook is authenticated this way: Meta's
/// POST /webhook is checked by its signature, and no scheme is the default (see the project's
/// <c>SuppressAutoDefaultScheme</c> switch), so a request that does not reach an admin endpoint never reads a token.
/// </summary>
internal static class AdminAccessExtensions
{
    /// <summary>Requires a valid service-role token (see <see cref="AdminAccessOptions"/>).</summary>
    public const string ServiceRolePolicy = "service-role";

    private const string Scheme = "ServiceRoleBearer";

    private static readonly TimeSpan s_clockSkew = TimeSpan.FromSeconds(30);

    /// <summary>
    /// What the tunnels add to every request they pass on: cloudflared <c>Cf-Connecting-Ip</c> and
    /// <c>X-Forwarded-For</c>, ngrok and devtunnel <c>X-Forwarded-For</c>, <c>-Host</c> and <c>-Proto</c>; other
    /// proxies the standard <c>Forwarded</c>.
    /// </summary>
    private static readonly string[] s_forwardingHeaders =
        ["Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Cf-Connecting-Ip"];

    public static IHostApplicationBuilder AddAdminAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminAccessOptions>()
            .Bind(builder.Configuration.GetSection(AdminAccessOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddAuthentication().AddJwtBearer(Scheme);
        builder.Services.AddOptions<JwtBearerOptions>(Scheme).Configure<IOptions<AdminAccessOptions>>((bearer, admin) =>
        {
            // Claims as the token names them: "role" stays "role".
            bearer.MapInboundClaims = false;
            bearer.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = AdminTokens.Issuer,
                ValidAudience = AdminTokens.Audience,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                LifetimeValidator = IsShortLivedAndCurrent,
                RequireSignedTokens = true,
                ClockSkew = s_clockSkew,
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(admin.Value.Secret!)),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                RoleClaimType = AdminTokens.RoleClaim,
            };
        });

        // A replay body that is not JSON is the caller's mistake, a 400 problem, in Development too (where minimal
        // APIs would otherwise throw it at the exception handler, which answers 500).
        builder.Services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = false);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ServiceRolePolicy, policy => policy
                .AddAuthenticationSchemes(Scheme)
                .RequireAuthenticatedUser()
                .RequireClaim(AdminTokens.RoleClaim, AdminTokens.ServiceRole));

        return builder;
    }

    /// <summary>
    /// In Development, <c>/admin</c> answers only this machine: a request that came through a tunnel (Ava:Tunnel,
    /// or one opened by hand) is answered 404, as if there were no such endpoint. Tunnels reach the webhook from this
    /// machine too, so the address says nothing; what each adds says where the request came from, and a caller
    /// cannot take those headers off. Deployments route <c>/admin</c> themselves (docs/deploy.md).
    /// </summary>
    public static IApplicationBuilder UseAdminOffTunnels(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            return app;
        }

        return app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(AdminEndpoints.Prefix, StringComparison.OrdinalIgnoreCase)
                && s_forwardingHeaders.Any(context.Request.Headers.ContainsKey))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    /// <summary>
    /// Current, as the default check has it, and issued for no longer than <see cref="AdminTokens.MaxLifetime"/>:
    /// a token made to last (or without its issue time) is refused even when the admin key signed it.
    /// </summary>
    private static bool IsShortLivedAndCurrent(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        // The default check, without this validator, which it would otherwise call again.
        var current = parameters.Clone();
        current.LifetimeValidator = null;
        Validators.ValidateLifetime(notBefore, expires, token, current);
        var issuedAt = (token as JsonWebToken)?.IssuedAt ?? DateTime.MinValue;
        return issuedAt != DateTime.MinValue && expires - issuedAt <= AdminTokens.MaxLifetime + parameters.ClockSkew;
    }
}
