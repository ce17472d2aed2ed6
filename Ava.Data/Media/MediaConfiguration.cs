using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ava.Data.Media;

internal sealed class MediaFileConfiguration : IEntityTypeConfiguration<MediaFile>
{
    public void Configure(EntityTypeBuilder<MediaFile> media)
    {
        media.ToTable("media_files");
        media.HasKey(m => m.Id).HasName("pk_media_files");
        media.Property(m => m.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        media.Property(m => m.MessageId).HasColumnName("message_id");
        media.Property(m => m.UserId).HasColumnName("user_id");
        media.Property(m => m.InboundWamid).HasColumnName("inbound_wamid");
        media.Property(m => m.MetaMediaId).HasColumnName("meta_media_id");
        media.Property(m => m.Type).HasColumnName("type");
        media.Property(m => m.MimeType).HasColumnName("mime_type");
        media.Property(m => m.Sha256).HasColumnName("sha256");
        media.Property(m => m.FileName).HasColumnName("file_name");
        media.Property(m => m.Caption).HasColumnName("caption");
        media.Property(m => m.Voice).HasColumnName("voice").HasDefaultValue(false);
        media.Property(m => m.Size).HasColumnName("size");
        media.Property(m => m.ChunkSize).HasColumnName("chunk_size");
        media.Property(m => m.Status).HasColumnName("status").HasDefaultValue(MediaStatus.Pending).HasSentinel((MediaStatus)(-1));
        media.Property(m => m.Attempts).HasColumnName("attempts").HasDefaultValue(0);
        media.Property(m => m.NextAttemptAt).HasColumnName("next_attempt_at").HasDefaultValueSql("now()");
        media.Property(m => m.LockedUntil).HasColumnName("locked_until");
        media.Property(m => m.ClaimToken).HasColumnName("claim_token");
        media.Property(m => m.ExpiresAt).HasColumnName("expires_at");
        media.Property(m => m.Error).HasColumnName("error");
        media.Property(m => m.TraceParent).HasColumnName("trace_parent");
        media.Property(m => m.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        media.Property(m => m.StoredAt).HasColumnName("stored_at");

        media.HasOne<Messages.Message>().WithMany().HasForeignKey(m => m.MessageId).HasConstraintName("fk_media_files_message").OnDelete(DeleteBehavior.Cascade);
        media.HasIndex(m => m.MessageId).IsUnique().HasDatabaseName("ux_media_files_message");

        // The download stage's claim scans only what waits.
        media.HasIndex(m => new { m.NextAttemptAt, m.Id }).HasDatabaseName("ix_media_files_pending").HasFilter("status = 'pending'");
    }
}

internal sealed class MediaChunkConfiguration : IEntityTypeConfiguration<MediaChunk>
{
    public void Configure(EntityTypeBuilder<MediaChunk> chunk)
    {
        chunk.ToTable("media_chunks");
        chunk.HasKey(c => new { c.MediaId, c.Seq }).HasName("pk_media_chunks");
        chunk.Property(c => c.MediaId).HasColumnName("media_id");
        chunk.Property(c => c.Seq).HasColumnName("seq");
        chunk.Property(c => c.UserId).HasColumnName("user_id");
        chunk.Property(c => c.Data).HasColumnName("data");
        chunk.HasOne<MediaFile>().WithMany().HasForeignKey(c => c.MediaId).HasConstraintName("fk_media_chunks_media").OnDelete(DeleteBehavior.Cascade);
    }
}
