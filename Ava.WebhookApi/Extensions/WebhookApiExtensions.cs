namespace Ava.WebhookApi;

internal static class WebhookApiExtensions
{
    public static IHostApplicationBuilder AddWebhookApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddAvaDbContext();
        builder.AddRedisClient("cache");

        builder.Services.AddProblemDetails();

        return builder;
    }
}
