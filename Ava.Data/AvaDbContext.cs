using Ava.Data.Media;
using Ava.Data.Messages;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Npgsql;
using Microsoft.EntityFrameworkCore;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;

namespace Ava.Data;

public sealed class AvaDbContext(DbContextOptions<AvaDbContext> options) : DbContext(options)
{
    public DbSet<UserPreferences> UserPreferences => Set<UserPreferences>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<InboundDelivery> InboundDeliveries => Set<InboundDelivery>();

    public DbSet<InboundMessage> InboundMessages => Set<InboundMessage>();

    public DbSet<OutboundReply> OutboundReplies => Set<OutboundReply>();

    public DbSet<DeliveryStatusEvent> DeliveryStatusEvents => Set<DeliveryStatusEvent>();

    public DbSet<ConversationTurn> ConversationTurns => Set<ConversationTurn>();

    public DbSet<MediaFile> MediaFiles => Set<MediaFile>();

    public DbSet<MediaChunk> MediaChunks => Set<MediaChunk>();

    /// <summary>
    /// Provider settings every user of the model needs, at run time and at design time alike: the Postgres enums
    /// must be mapped for Npgsql to read and write them.
    /// </summary>
    public static void ConfigureNpgsql(NpgsqlDbContextOptionsBuilder npgsql)
    {
        npgsql.MapEnum<MessageChannel>("message_channel");
        npgsql.MapEnum<MessageRole>("message_role");
        npgsql.MapEnum<InboundOutcome>("inbound_outcome");
        npgsql.MapEnum<DeliveryStatus>("delivery_status");
        npgsql.MapEnum<ConversationTurnStatus>("turn_status");
        npgsql.MapEnum<MediaStatus>("media_status");
    }

    /// <summary>The same enum mappings for plain Npgsql data sources (services that write SQL themselves).</summary>
    public static void MapEnums(NpgsqlDataSourceBuilder dataSource)
    {
        dataSource.MapEnum<MessageChannel>("message_channel");
        dataSource.MapEnum<MessageRole>("message_role");
        dataSource.MapEnum<InboundOutcome>("inbound_outcome");
        dataSource.MapEnum<DeliveryStatus>("delivery_status");
        dataSource.MapEnum<ConversationTurnStatus>("turn_status");
        dataSource.MapEnum<MediaStatus>("media_status");
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Declared with its labels in order: the order of delivery_status is its meaning (see DeliveryStatus).
        modelBuilder.HasPostgresEnum("delivery_status", ["pending", "sent", "delivered", "read", "failed"]);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AvaDbContext).Assembly);
    }
}
