using Ava.Data.Messages;
using Ava.Data.Users;
using Microsoft.EntityFrameworkCore;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Ava.Data;

public sealed class AvaDbContext(DbContextOptions<AvaDbContext> options) : DbContext(options)
{
    public DbSet<UserPreferences> UserPreferences => Set<UserPreferences>();

    public DbSet<Message> Messages => Set<Message>();

    /// <summary>
    /// Provider settings every user of the model needs, at run time and at design time alike: the Postgres enums
    /// must be mapped for Npgsql to read and write them.
    /// </summary>
    public static void ConfigureNpgsql(NpgsqlDbContextOptionsBuilder npgsql)
    {
        npgsql.MapEnum<MessageChannel>("message_channel");
        npgsql.MapEnum<MessageRole>("message_role");
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AvaDbContext).Assembly);
}
