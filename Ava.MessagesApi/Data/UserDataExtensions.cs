namespace Ava.MessagesApi.Data;

internal static class UserDataExtensions
{
    /// <summary>
    /// Ava's database as the signed-in user: <see cref="UserDataBatches"/> for the hot paths, on a plain data
    /// source, and <see cref="UserDataSession"/> (EF Core) for the rest. Each would add its own Postgres health
    /// check; the messages API's settings turn off EF's, so <c>/health</c> checks Postgres once.
    /// </summary>
    public static IHostApplicationBuilder AddUserData(this IHostApplicationBuilder builder)
    {
        builder.AddAvaDataSource(UserDataBatches.ConfigureDataSource);
        builder.Services.AddSingleton<UserDataBatches>();

        builder.AddAvaDbContext();
        builder.Services.AddScoped<UserDataSession>();
        return builder;
    }
}
