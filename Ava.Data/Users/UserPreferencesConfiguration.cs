using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ava.Data.Users;

internal sealed class UserPreferencesConfiguration : IEntityTypeConfiguration<UserPreferences>
{
    public void Configure(EntityTypeBuilder<UserPreferences> preferences)
    {
        // Phones are compared as digits (Meta's form); another writer's "+1 555…" would silently never match.
        preferences.ToTable("user_preferences", table =>
        {
            table.HasCheckConstraint("ck_user_preferences_whatsapp_phone_digits", "whatsapp_phone ~ '^[0-9]+$'");

            // Never all digits: a user id and a phone share the lookups' key space.
            table.HasCheckConstraint("ck_user_preferences_whatsapp_user_id_format", $"whatsapp_user_id ~ '{WhatsAppUserIds.Pattern}'");
        });

        preferences.HasKey(p => p.UserId);
        preferences.Property(p => p.UserId).HasColumnName("user_id").ValueGeneratedNever();
        preferences.Property(p => p.WhatsAppPhone).HasColumnName("whatsapp_phone");
        preferences.Property(p => p.WhatsAppUserId).HasColumnName("whatsapp_user_id");
        preferences.Property(p => p.WhatsAppUsername).HasColumnName("whatsapp_username");
        preferences.Property(p => p.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        preferences.Property(p => p.UpdatedAt).HasColumnName("updated_at").HasDefaultValueSql("now()");

        // One phone belongs to at most one user; unlinked rows (null) do not collide.
        preferences.HasIndex(p => p.WhatsAppPhone)
            .HasDatabaseName("ux_user_preferences_whatsapp_phone")
            .IsUnique()
            .HasFilter("whatsapp_phone IS NOT NULL");

        // Likewise a WhatsApp account's business-scoped user id.
        preferences.HasIndex(p => p.WhatsAppUserId)
            .HasDatabaseName("ux_user_preferences_whatsapp_user_id")
            .IsUnique()
            .HasFilter("whatsapp_user_id IS NOT NULL");
    }
}
