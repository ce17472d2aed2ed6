using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ava.Data.Messages;

internal sealed class MessageConfiguration : IEntityTypeConfiguration<Message>
{
    public void Configure(EntityTypeBuilder<Message> message)
    {
        message.ToTable("messages");

        message.HasKey(m => m.Id);
        message.Property(m => m.Id).HasColumnName("id").HasDefaultValueSql("gen_random_uuid()");
        message.Property(m => m.UserId).HasColumnName("user_id");
        message.Property(m => m.AvatarId).HasColumnName("avatar_id");
        message.Property(m => m.Channel).HasColumnName("channel");
        message.Property(m => m.Role).HasColumnName("role");
        message.Property(m => m.Content).HasColumnName("content");
        message.Property(m => m.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        message.Property(m => m.ExternalId).HasColumnName("external_id");
        message.Property(m => m.DeliveryStatus).HasColumnName("delivery_status");

        // Serves "this user's messages, newest first" and keyset paging on (created_at, id).
        message.HasIndex(m => new { m.UserId, m.CreatedAt, m.Id })
            .HasDatabaseName("ix_messages_user_id_created_at_id")
            .IsDescending(false, true, true);
    }
}
