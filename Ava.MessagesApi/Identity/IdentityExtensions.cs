using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Ava.MessagesApi.Identity;

internal static class IdentityExtensions
{
    /// <summary>Requires a token whose <c>sub</c> is a uuid: an Ava user.</summary>
    public const string AvaUserPolicy = "ava-user";

    public static IHostApplicationBuilder AddAvaIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>()
            .Bind(builder.Configuration.GetSection(JwtOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<JwtOptions>>((bearer, jwtOptions) =>
            {
                var jwt = jwtOptions.Value;
                bearer.MapInboundClaims = true;
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateAudience = true,
                    ValidAudience = jwt.Audience,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };

                if (!string.IsNullOrWhiteSpace(jwt.Authority))
                {
                    bearer.Authority = jwt.Authority;
                    bearer.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
                    bearer.TokenValidationParameters.ValidateIssuer = true;
                    if (jwt.Issuer is { Length: > 0 } issuer)
                    {
                        bearer.TokenValidationParameters.ValidIssuer = issuer;
                    }

                    return;
                }

                // Supabase mode: one shared secret, HS256 only (no "none", no algorithm confusion).
                bearer.TokenValidationParameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.Secret!));
                bearer.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
                bearer.TokenValidationParameters.ValidateIssuer = jwt.Issuer is { Length: > 0 };
                bearer.TokenValidationParameters.ValidIssuer = jwt.Issuer;
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AvaUserPolicy, policy => policy
                .RequireAuthenticatedUser()
                .RequireAssertion(context =>
                    Guid.TryParse(context.User.FindFirstValue(ClaimTypes.NameIdentifier), out _)));

        builder.Services.AddScoped<CurrentUser>();
        return builder;
    }

    /// <summary>Makes the request's principal available as <see cref="CurrentUser"/>.</summary>
    public static IApplicationBuilder UseCurrentUser(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.RequestServices.GetRequiredService<CurrentUser>().Principal = context.User;
        await next(context);
    });
}
