using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
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

    /// <summary>Supabase's claim and value for its admin keys.</summary>
    public const string RoleClaim = "role";

    public const string ServiceRole = "service_role";

    private const string Scheme = "ServiceRoleBearer";

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
                // Supabase's service-role key has no audience and its own issuer; its signature and role are what count.
                ValidateAudience = false,
                ValidateIssuer = false,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = TimeSpan.FromSeconds(30),
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(admin.Value.Secret!)),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                RoleClaimType = RoleClaim,
            };
        });

        // A replay body that is not JSON is the caller's mistake, a 400 problem, in Development too (where minimal
        // APIs would otherwise throw it at the exception handler, which answers 500).
        builder.Services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = false);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ServiceRolePolicy, policy => policy
                .AddAuthenticationSchemes(Scheme)
                .RequireAuthenticatedUser()
                .RequireClaim(RoleClaim, ServiceRole));

        return builder;
    }
}
