using System.Diagnostics;
using Ava.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

public static class AvaDataExtensions
{
    /// <summary>The connection string name of Ava's database, as the AppHost references it.</summary>
    public const string ConnectionName = "ava";

    /// <summary>
    /// Registers <see cref="AvaDbContext"/> (pooled) with Aspire's Npgsql enrichment: retrying execution strategy,
    /// a database health check, tracing and metrics.
    /// </summary>
    public static TBuilder AddAvaDbContext<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} is not set. Start Ava through the AppHost (dotnet run --project Ava.AppHost), " +
                "or set the connection string in configuration.");

        builder.Services.AddDbContextPool<AvaDbContext>(options =>
            options.UseNpgsql(connectionString, AvaDbContext.ConfigureNpgsql));
        builder.EnrichNpgsqlDbContext<AvaDbContext>();

        return builder;
    }

    /// <summary>
    /// Registers a plain <see cref="Npgsql.NpgsqlDataSource"/> on Ava's database, with Ava's enums mapped, for services
    /// that write their SQL themselves; with Aspire's health check, tracing and metrics.
    /// </summary>
    /// <param name="configureDataSource">A service's own settings on top (e.g. statement preparation).</param>
    public static TBuilder AddAvaDataSource<TBuilder>(
        this TBuilder builder, Action<Npgsql.NpgsqlDataSourceBuilder>? configureDataSource = null) where TBuilder : IHostApplicationBuilder
    {
        builder.AddNpgsqlDataSource(ConnectionName, configureDataSourceBuilder: dataSource =>
        {
            AvaDbContext.MapEnums(dataSource);

            // Background workers poll every second; their empty polls (and health probes) would bury the traces
            // of real messages. Only commands that run within a traced operation are traced.
            dataSource.ConfigureTracing(tracing => tracing.ConfigureCommandFilter(_ => Activity.Current is not null));

            configureDataSource?.Invoke(dataSource);
        });
        return builder;
    }
}
