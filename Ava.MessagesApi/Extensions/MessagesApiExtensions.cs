namespace Ava.MessagesApi;

internal static class MessagesApiExtensions
{
    public static IHostApplicationBuilder AddMessagesApiServices(this IHostApplicationBuilder builder)
    {
        builder.AddAvaDbContext();
        builder.AddRedisClient("cache");

        builder.Services.AddProblemDetails();

        return builder;
    }
}
