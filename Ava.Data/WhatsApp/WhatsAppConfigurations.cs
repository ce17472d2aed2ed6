using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Ava.Data.WhatsApp;

internal sealed class InboundDeliveryConfiguration : IEntityTypeConfiguration<InboundDelivery>
{
    public void Configure(EntityTypeBuilder<InboundDelivery> delivery)
    {
        delivery.ToTable("inbound_deliveries");
        delivery.HasKey(d => d.Id).HasName("pk_inbound_deliveries");
        delivery.Property(d => d.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        delivery.Property(d => d.ReceivedAt).HasColumnName("received_at").HasDefaultValueSql("now()");
        delivery.Property(d => d.Body).HasColumnName("body");
        delivery.Property(d => d.TraceParent).HasColumnName("trace_parent");
        delivery.Property(d => d.Outcome).HasColumnName("outcome");
        delivery.Property(d => d.ProcessedAt).HasColumnName("processed_at");
        delivery.Property(d => d.Attempts).HasColumnName("attempts").HasDefaultValue(0);
        delivery.Property(d => d.LockedUntil).HasColumnName("locked_until");
        delivery.Property(d => d.ClaimToken).HasColumnName("claim_token");
        delivery.Property(d => d.Error).HasColumnName("error");

        // The processor's claim scans only what is still to do.
        delivery.HasIndex(d => d.Id).HasDatabaseName("ix_inbound_deliveries_pending").HasFilter("processed_at IS NULL");

        // Retention finds old deliveries without scanning the table. BRIN: rows arrive in time order, and a block
        // range summary costs the hot insert path next to nothing, where a btree entry per row would not.
        delivery.HasIndex(d => d.ReceivedAt).HasDatabaseName("ix_inbound_deliveries_received_at").HasMethod("brin");
    }
}

internal sealed class InboundMessageConfiguration : IEntityTypeConfiguration<InboundMessage>
{
    public void Configure(EntityTypeBuilder<InboundMessage> message)
    {
        message.ToTable("inbound_messages");
        message.HasKey(m => m.Wamid).HasName("pk_inbound_messages");
        message.Property(m => m.Wamid).HasColumnName("wamid");
        message.Property(m => m.DeliveryId).HasColumnName("delivery_id");
        message.Property(m => m.PhoneNumberId).HasColumnName("phone_number_id");
        message.Property(m => m.FromPhone).HasColumnName("from_phone");
        message.Property(m => m.FromUserId).HasColumnName("from_user_id");
        message.Property(m => m.FromParentUserId).HasColumnName("from_parent_user_id");
        message.Property(m => m.FromUsername).HasColumnName("from_username");
        message.Property(m => m.Type).HasColumnName("type");
        message.Property(m => m.Content).HasColumnName("content");
        message.Property(m => m.SentAt).HasColumnName("sent_at");
        message.Property(m => m.UserId).HasColumnName("user_id");
        message.Property(m => m.ProcessedAt).HasColumnName("processed_at").HasDefaultValueSql("now()");

        message.HasIndex(m => m.ProcessedAt).HasDatabaseName("ix_inbound_messages_processed_at").HasMethod("brin");
    }
}

internal sealed class OutboundReplyConfiguration : IEntityTypeConfiguration<OutboundReply>
{
    public void Configure(EntityTypeBuilder<OutboundReply> reply)
    {
        reply.ToTable("outbound_replies", table =>
        {
            table.HasCheckConstraint("ck_outbound_replies_recipient", "to_phone IS NOT NULL OR to_user_id IS NOT NULL");
            table.HasCheckConstraint("ck_outbound_replies_answers", "(inbound_wamid IS NULL) <> (turn_id IS NULL) AND (turn_id IS NULL) = (turn_reply_index IS NULL)");
        });
        reply.HasKey(r => r.Id).HasName("pk_outbound_replies");
        reply.Property(r => r.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        reply.Property(r => r.InboundWamid).HasColumnName("inbound_wamid");
        reply.Property(r => r.TurnId).HasColumnName("turn_id");
        reply.Property(r => r.TurnReplyIndex).HasColumnName("turn_reply_index");
        reply.Property(r => r.UserId).HasColumnName("user_id");
        reply.Property(r => r.MessageId).HasColumnName("message_id");
        reply.Property(r => r.PhoneNumberId).HasColumnName("phone_number_id");
        reply.Property(r => r.ToPhone).HasColumnName("to_phone");
        reply.Property(r => r.ToUserId).HasColumnName("to_user_id");
        reply.Property(r => r.Body).HasColumnName("body");
        reply.Property(r => r.Status).HasColumnName("status").HasDefaultValue(DeliveryStatus.Pending).HasSentinel((DeliveryStatus)(-1));
        reply.Property(r => r.Attempts).HasColumnName("attempts").HasDefaultValue(0);
        reply.Property(r => r.NextAttemptAt).HasColumnName("next_attempt_at").HasDefaultValueSql("now()");
        reply.Property(r => r.LockedUntil).HasColumnName("locked_until");
        reply.Property(r => r.ClaimToken).HasColumnName("claim_token");
        reply.Property(r => r.ExpiresAt).HasColumnName("expires_at").HasDefaultValueSql("now() + interval '24 hours'");
        reply.Property(r => r.Wamid).HasColumnName("wamid");
        reply.Property(r => r.ErrorCode).HasColumnName("error_code");
        reply.Property(r => r.ErrorTitle).HasColumnName("error_title");
        reply.Property(r => r.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        reply.Property(r => r.SentAt).HasColumnName("sent_at");
        reply.Property(r => r.TraceParent).HasColumnName("trace_parent");
        reply.Property(r => r.Reference).HasColumnName("reference").HasDefaultValueSql("gen_random_uuid()");
        reply.Property(r => r.InDoubt).HasColumnName("in_doubt").HasDefaultValue(false);
        reply.Property(r => r.RetryNotBefore).HasColumnName("retry_not_before");

        reply.HasIndex(r => r.InboundWamid).IsUnique().HasDatabaseName("ux_outbound_replies_inbound_wamid");

        // A turn's answer inserts each of its replies once, however often the responder was asked.
        reply.HasIndex(r => new { r.TurnId, r.TurnReplyIndex }).IsUnique().HasDatabaseName("ux_outbound_replies_turn_reply");

        // A user's next turn waits for the replies of the previous ones to go.
        reply.HasIndex(r => r.UserId).HasDatabaseName("ix_outbound_replies_pending_turn_replies").HasFilter("status = 'pending' AND turn_id IS NOT NULL");
        reply.HasIndex(r => r.Wamid).IsUnique().HasDatabaseName("ux_outbound_replies_wamid").HasFilter("wamid IS NOT NULL");
        reply.HasIndex(r => r.NextAttemptAt).HasDatabaseName("ix_outbound_replies_pending").HasFilter("status = 'pending'");
    }
}

internal sealed class DeliveryStatusEventConfiguration : IEntityTypeConfiguration<DeliveryStatusEvent>
{
    public void Configure(EntityTypeBuilder<DeliveryStatusEvent> statusEvent)
    {
        statusEvent.ToTable("delivery_status_events");
        statusEvent.HasKey(e => new { e.Wamid, e.Status }).HasName("pk_delivery_status_events");
        statusEvent.Property(e => e.Wamid).HasColumnName("wamid");
        statusEvent.Property(e => e.Status).HasColumnName("status");
        statusEvent.Property(e => e.OccurredAt).HasColumnName("occurred_at");
        statusEvent.Property(e => e.RecipientId).HasColumnName("recipient_id");
        statusEvent.Property(e => e.RecipientUserId).HasColumnName("recipient_user_id");
        statusEvent.Property(e => e.ErrorCode).HasColumnName("error_code");
        statusEvent.Property(e => e.ErrorTitle).HasColumnName("error_title");
        statusEvent.Property(e => e.ReceivedAt).HasColumnName("received_at").HasDefaultValueSql("now()");
    }
}

internal sealed class ConversationTurnConfiguration : IEntityTypeConfiguration<ConversationTurn>
{
    public void Configure(EntityTypeBuilder<ConversationTurn> turn)
    {
        turn.ToTable("conversation_turns", table => table.HasCheckConstraint(
            "ck_conversation_turns_recipient", "to_phone IS NOT NULL OR to_user_id IS NOT NULL"));
        turn.HasKey(t => t.Id).HasName("pk_conversation_turns");
        turn.Property(t => t.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        turn.Property(t => t.InboundWamid).HasColumnName("inbound_wamid");
        turn.Property(t => t.UserId).HasColumnName("user_id");
        turn.Property(t => t.MessageId).HasColumnName("message_id");
        turn.Property(t => t.PhoneNumberId).HasColumnName("phone_number_id");
        turn.Property(t => t.ToPhone).HasColumnName("to_phone");
        turn.Property(t => t.ToUserId).HasColumnName("to_user_id");
        turn.Property(t => t.MessageType).HasColumnName("message_type");
        turn.Property(t => t.Content).HasColumnName("content");
        turn.Property(t => t.WrittenAt).HasColumnName("written_at");
        turn.Property(t => t.DeliveryId).HasColumnName("delivery_id").HasDefaultValue(0L);
        turn.Property(t => t.Status).HasColumnName("status").HasDefaultValue(ConversationTurnStatus.Pending).HasSentinel((ConversationTurnStatus)(-1));
        turn.Property(t => t.Attempts).HasColumnName("attempts").HasDefaultValue(0);
        turn.Property(t => t.NextAttemptAt).HasColumnName("next_attempt_at").HasDefaultValueSql("now()");
        turn.Property(t => t.LockedUntil).HasColumnName("locked_until");
        turn.Property(t => t.ClaimToken).HasColumnName("claim_token");
        turn.Property(t => t.ExpiresAt).HasColumnName("expires_at");
        turn.Property(t => t.Error).HasColumnName("error");
        turn.Property(t => t.TraceParent).HasColumnName("trace_parent");
        turn.Property(t => t.CreatedAt).HasColumnName("created_at").HasDefaultValueSql("now()");
        turn.Property(t => t.AnsweredAt).HasColumnName("answered_at");

        turn.HasIndex(t => t.InboundWamid).IsUnique().HasDatabaseName("ux_conversation_turns_inbound_wamid");

        // The composer's claim scans only what waits, and finds a user's earlier unanswered turn without a scan.
        turn.HasIndex(t => new { t.NextAttemptAt, t.Id }).HasDatabaseName("ix_conversation_turns_pending").HasFilter("status = 'pending'");
        turn.HasIndex(t => new { t.UserId, t.WrittenAt, t.DeliveryId, t.Id }).HasDatabaseName("ix_conversation_turns_pending_by_user").HasFilter("status = 'pending'");
    }
}
