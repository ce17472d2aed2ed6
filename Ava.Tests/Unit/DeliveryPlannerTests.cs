using Ava.Data.Messages;
using Ava.Data.WhatsApp;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Model;
using Ava.WebhookApi.WhatsApp.Processing;
using Ava.WebhookApi.WhatsApp.Storage;

namespace Ava.Tests.Unit;

/// <summary>What a batch of deliveries means, decided without a database.</summary>
public sealed class DeliveryPlannerTests
{
    private const string Ava = "100000000000001";
    private const string LinkedPhone = "15551110001";
    private const string UnlinkedPhone = "15551110002";
    private const string LinkedUserId = "US.13491208655302741918";
    private const string StrangerUserId = "BR.1502576394655843";
    private const string RecycledPhone = "15551110003";
    private const string PreviousHolderUserId = "US.20000000000000000001";

    private static readonly Guid s_token = Guid.CreateVersion7();
    private static readonly ReplyReference s_reply4 = new(4, Guid.CreateVersion7());
    private static readonly ReplyReference s_reply9 = new(9, Guid.CreateVersion7());
    private static readonly Guid s_linkedUser = Guid.Parse("0196a8a0-0000-7000-8000-000000000001");
    private static readonly Guid s_userLinkedById = Guid.Parse("0196a8a0-0000-7000-8000-000000000002");
    private static readonly Guid s_previousHolder = Guid.Parse("0196a8a0-0000-7000-8000-000000000003");
    private static readonly DateTimeOffset s_now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly PlanningRules s_rules = new(WhatsAppCloudApiOptions.DefaultRegistrationMessage, TimeSpan.FromHours(24));

    private static readonly Dictionary<string, LinkedAccount?> s_users = new()
    {
        [LinkedPhone] = new(s_linkedUser, null),
        [UnlinkedPhone] = null,
        [LinkedUserId] = new(s_userLinkedById, LinkedUserId),
        [StrangerUserId] = null,
        [RecycledPhone] = new(s_previousHolder, PreviousHolderUserId),
        [PreviousHolderUserId] = new(s_previousHolder, PreviousHolderUserId),
    };

    [Fact]
    public void A_linked_senders_text_becomes_two_history_lines_and_an_echo()
    {
        var message = Text("wamid.A", LinkedPhone, "hello", s_now.AddSeconds(-5));

        var plan = Plan([Delivery(1, message)]);

        Assert.Equal(
            [(MessageRole.User, "hello", (string?)"wamid.A", (DeliveryStatus?)null), (MessageRole.Assistant, "[Echo] hello", null, DeliveryStatus.Pending)],
            plan.History.Select(h => (h.Role, h.Content, h.ExternalId, h.DeliveryStatus)));
        Assert.All(plan.History, h => Assert.Equal(s_linkedUser, h.UserId));
        var reply = Assert.Single(plan.Replies);
        Assert.Equal(("wamid.A", LinkedPhone, Ava, "[Echo] hello", (Guid?)plan.History[1].Id), (reply.InboundWamid, reply.ToPhone, reply.PhoneNumberId, reply.Body, reply.MessageId));
        Assert.Equal([new DeliveryOutcome(1, s_token, InboundOutcome.Processed, null)], plan.Outcomes);
    }

    [Fact]
    public void An_unlinked_sender_gets_the_registration_message_and_no_history()
    {
        var plan = Plan([Delivery(1, Text("wamid.A", UnlinkedPhone, "hi"))]);

        Assert.Empty(plan.History);
        var reply = Assert.Single(plan.Replies);
        Assert.Equal((WhatsAppCloudApiOptions.DefaultRegistrationMessage, (Guid?)null, (Guid?)null), (reply.Body, reply.UserId, reply.MessageId));
    }

    [Fact]
    public void Messages_the_gate_did_not_let_through_cause_nothing()
    {
        var plan = Plan([Delivery(1, Text("wamid.SEEN", LinkedPhone, "again"), Text("wamid.NEW", LinkedPhone, "new"))], newWamids: new HashSet<string> { "wamid.NEW" });

        Assert.Equal(["[Echo] new"], plan.Replies.Select(r => r.Body));
        Assert.Equal(1, plan.Duplicates);
        Assert.Equal(2, plan.History.Count);
    }

    [Fact]
    public void A_message_repeated_within_a_batch_is_handled_once()
    {
        var message = Text("wamid.A", LinkedPhone, "twice");

        var plan = Plan([Delivery(1, message), Delivery(2, message)]);

        Assert.Single(plan.Replies);
        Assert.Equal(1, plan.Duplicates);
        Assert.Equal(2, plan.Outcomes.Count(o => o.Outcome == InboundOutcome.Processed));
    }

    [Fact]
    public void A_link_earlier_in_the_batch_makes_the_phones_later_messages_its_new_owners()
    {
        var newOwner = Guid.CreateVersion7();
        var link = Text("wamid.LINK", UnlinkedPhone, "LINK 123456");
        var after = Text("wamid.AFTER", UnlinkedPhone, "and now?");

        var plan = Plan(
            [Delivery(1, link), Delivery(2, after)],
            links: new() { ["wamid.LINK"] = new LinkAttempt(UnlinkedPhone, "123456", newOwner) });

        Assert.Equal([WhatsAppLinking.LinkedReply, "[Echo] and now?"], plan.Replies.Select(r => r.Body));
        Assert.All(plan.History, h => Assert.Equal(newOwner, h.UserId));
        Assert.Equal([UnlinkedPhone], plan.Links.Select(l => l.Phone));
    }

    [Fact]
    public void A_link_redis_could_not_check_holds_back_its_delivery_alone_and_its_neighbours_are_answered()
    {
        var deliveries = new[]
        {
            Delivery(1, Text("wamid.LINK", UnlinkedPhone, "LINK 123456"), Text("wamid.SAME", LinkedPhone, "same delivery")),
            Delivery(2, Text("wamid.NEXT", LinkedPhone, "next delivery")),
        };
        var links = new Dictionary<string, LinkAttempt> { ["wamid.LINK"] = new LinkAttempt(UnlinkedPhone, "123456", null, Deferred: true) };

        var plan = Plan(deliveries, links: links);

        Assert.Equal(["[Echo] same delivery", "[Echo] next delivery"], plan.Replies.Select(r => r.Body));
        Assert.Empty(plan.Links);
        Assert.Equal([1L], plan.Deferred);
        Assert.Equal([2L], plan.Outcomes.Select(o => o.Id));
        Assert.Equal(["wamid.NEXT", "wamid.SAME"], DeliveryPlanner.InboundRows(deliveries, s_users, links).Select(r => r.Wamid));
    }

    [Fact]
    public void A_wrong_code_is_answered_and_counted_but_links_nothing()
    {
        var plan = Plan(
            [Delivery(1, Text("wamid.LINK", UnlinkedPhone, "LINK 000000"))],
            links: new() { ["wamid.LINK"] = new LinkAttempt(UnlinkedPhone, "000000", null) });

        Assert.Equal([WhatsAppLinking.WrongCodeReply], plan.Replies.Select(r => r.Body));
        Assert.Empty(plan.History);
        Assert.False(Assert.Single(plan.Links).Succeeded);
    }

    [Fact]
    public void The_account_a_phone_was_taken_from_gets_a_notice_in_its_history_and_nobody_else_does()
    {
        var previousOwner = Guid.CreateVersion7();
        var newOwner = Guid.CreateVersion7();

        var notices = DeliveryPlanner.MovedAwayNotices(
            [
                (new LinkAttempt(UnlinkedPhone, "123456", newOwner), new WhatsAppLinkChange([previousOwner], [UnlinkedPhone])),
                (new LinkAttempt(LinkedPhone, "654321", newOwner), new WhatsAppLinkChange([], [LinkedPhone, "15550000000"])),
                (new LinkAttempt(LinkedPhone, "000000", null), null),
            ],
            s_now).ToList();

        var notice = Assert.Single(notices);
        Assert.Equal(
            (previousOwner, MessageRole.Assistant, $"Your WhatsApp number +{UnlinkedPhone} was linked to another Ava account. Its messages no longer appear here.", s_now, (string?)null, (DeliveryStatus?)null),
            (notice.UserId, notice.Role, notice.Content, notice.CreatedAt, notice.ExternalId, notice.DeliveryStatus));
    }

    [Fact]
    public void An_unreadable_delivery_is_set_aside_and_its_batch_mates_are_processed()
    {
        var plan = Plan([new DecodedDelivery(1, s_token, null, null), Delivery(2, Text("wamid.B", LinkedPhone, "fine"))]);

        Assert.Equal(
            [new DeliveryOutcome(1, s_token, InboundOutcome.Unprocessable, DeliveryPlanner.NotANotification), new DeliveryOutcome(2, s_token, InboundOutcome.Processed, null)],
            plan.Outcomes);
        Assert.Single(plan.Replies);
    }

    [Fact]
    public void A_reply_is_worth_sending_until_24_hours_after_the_user_wrote_never_later_than_from_now()
    {
        var plan = Plan(
        [
            Delivery(1, Text("wamid.OLD", LinkedPhone, "an hour ago", s_now.AddHours(-1))),
            Delivery(2, Text("wamid.AHEAD", LinkedPhone, "from the future", s_now.AddHours(3))),
        ]);

        Assert.Equal([s_now.AddHours(23), s_now.AddHours(24)], plan.Replies.Select(r => r.ExpiresAt));
    }

    [Fact]
    public void The_reply_is_logged_after_the_users_message_even_when_metas_clock_runs_ahead()
    {
        var plan = Plan([Delivery(1, Text("wamid.A", LinkedPhone, "hi", s_now.AddSeconds(30)))]);

        Assert.True(plan.History[1].CreatedAt > plan.History[0].CreatedAt);
    }

    [Fact]
    public void Statuses_are_kept_once_per_message_and_status_in_a_fixed_order()
    {
        var statuses = new[]
        {
            new IncomingStatus("wamid.B", DeliveryStatus.Read, null, null, null, null),
            new IncomingStatus("wamid.A", DeliveryStatus.Delivered, null, null, null, null),
            new IncomingStatus("wamid.B", DeliveryStatus.Read, null, null, null, null),
            new IncomingStatus("wamid.B", DeliveryStatus.Sent, null, null, null, null),
        };

        var plan = Plan([new DecodedDelivery(1, s_token, new NotificationContents([], statuses, 0), null)]);

        Assert.Equal(
            [("wamid.A", DeliveryStatus.Delivered), ("wamid.B", DeliveryStatus.Sent), ("wamid.B", DeliveryStatus.Read)],
            plan.Statuses.Select(s => (s.Wamid, s.Status)));
    }

    [Fact]
    public void A_status_naming_an_ava_reply_shows_meta_accepted_it_once_per_reply_in_id_order()
    {
        var statuses = new[]
        {
            new IncomingStatus("wamid.9", DeliveryStatus.Delivered, null, LinkedPhone, null, null, Reply: s_reply9, PhoneNumberId: Ava),
            new IncomingStatus("wamid.4", DeliveryStatus.Failed, null, null, 131026, "Message undeliverable", Reply: s_reply4, PhoneNumberId: Ava, RecipientUserId: LinkedUserId),
            new IncomingStatus("wamid.9", DeliveryStatus.Read, null, LinkedPhone, null, null, Reply: s_reply9, PhoneNumberId: Ava),
            new IncomingStatus("wamid.other-app", DeliveryStatus.Sent, null, null, null, null, Reply: null, PhoneNumberId: Ava),
        };

        var plan = Plan([new DecodedDelivery(1, s_token, new NotificationContents([], statuses, 0), null)]);

        Assert.Equal(
            [new AcceptedSend(s_reply4, "wamid.4", Ava, null, LinkedUserId), new AcceptedSend(s_reply9, "wamid.9", Ava, LinkedPhone)],
            plan.AcceptedSends);
    }

    [Fact]
    public void The_gate_rows_are_one_per_wamid_in_wamid_order_so_that_instances_lock_alike()
    {
        var rows = DeliveryPlanner.InboundRows(
            [Delivery(7, Text("wamid.C", LinkedPhone, "c"), Text("wamid.A", UnlinkedPhone, "a")), Delivery(8, Text("wamid.C", LinkedPhone, "c"))],
            s_users);

        Assert.Equal([("wamid.A", 7L, (Guid?)null), ("wamid.C", 7L, s_linkedUser)], rows.Select(r => (r.Wamid, r.DeliveryId, r.UserId)));
    }

    [Fact]
    public void Reactions_of_unlinked_senders_and_messages_from_nobody_known_get_no_reply()
    {
        var reaction = Text("wamid.R", UnlinkedPhone, "") with { Type = "reaction", Text = null, Content = "[reaction] 👍" };
        var anonymous = Text("wamid.U", UnlinkedPhone, "hi") with { FromPhone = null, FromUserId = null };

        var plan = Plan([Delivery(1, reaction, anonymous)]);

        Assert.Empty(plan.Replies);
        Assert.Equal(new Dictionary<string, int> { ["reaction"] = 1, ["text"] = 1 }, plan.Received);
    }

    [Fact]
    public void A_stranger_without_a_phone_is_told_how_to_register_at_their_user_id_once_in_a_while()
    {
        var first = UsernameOnly("wamid.U1", StrangerUserId, "hi");
        var second = UsernameOnly("wamid.U2", StrangerUserId, "hello?");

        var plan = Plan([Delivery(1, first, second)], registrationReplies: new HashSet<string> { "wamid.U1" });

        var reply = Assert.Single(plan.Replies);
        Assert.Equal(
            ("wamid.U1", (string?)null, (string?)StrangerUserId, WhatsAppCloudApiOptions.DefaultRegistrationMessage),
            (reply.InboundWamid, reply.ToPhone, reply.ToUserId, reply.Body));
        Assert.Equal(new Dictionary<string, string> { [StrangerUserId] = "wamid.U1" }, plan.RegistrationCandidates);
        Assert.Empty(plan.History);
    }

    [Fact]
    public void A_user_linked_by_user_id_writing_without_a_phone_gets_an_echo_at_that_id_and_a_history()
    {
        var plan = Plan([Delivery(1, UsernameOnly("wamid.U", LinkedUserId, "no phone here"))]);

        var reply = Assert.Single(plan.Replies);
        Assert.Equal(("[Echo] no phone here", (string?)null, (string?)LinkedUserId), (reply.Body, reply.ToPhone, reply.ToUserId));
        Assert.Equal([s_userLinkedById, s_userLinkedById], plan.History.Select(h => h.UserId));
    }

    [Fact]
    public void The_user_id_decides_who_a_sender_is_when_phone_and_user_id_are_linked_to_different_users()
    {
        var message = Text("wamid.A", LinkedPhone, "whose?") with { FromUserId = LinkedUserId };

        var plan = Plan([Delivery(1, message)]);

        Assert.All(plan.History, h => Assert.Equal(s_userLinkedById, h.UserId));
        Assert.Equal(
            [s_userLinkedById],
            DeliveryPlanner.InboundRows([Delivery(1, message)], s_users).Select(r => r.UserId));
    }

    [Fact]
    public void A_reply_to_a_sender_with_both_goes_to_the_phone_and_keeps_the_user_id()
    {
        var message = Text("wamid.A", UnlinkedPhone, "hi") with { FromUserId = StrangerUserId };

        var reply = Assert.Single(Plan([Delivery(1, message)]).Replies);

        Assert.Equal((UnlinkedPhone, StrangerUserId), (reply.ToPhone, reply.ToUserId));
    }

    [Fact]
    public void A_code_sent_without_a_phone_links_the_user_id_for_the_senders_later_messages()
    {
        var newOwner = Guid.CreateVersion7();
        var link = UsernameOnly("wamid.LINK", StrangerUserId, "LINK 123456");
        var after = UsernameOnly("wamid.AFTER", StrangerUserId, "linked?");

        var plan = Plan(
            [Delivery(1, link), Delivery(2, after)],
            links: new()
            {
                ["wamid.LINK"] = new LinkAttempt(null, "123456", newOwner, WhatsAppUserId: StrangerUserId, ClaimedPhone: UnlinkedPhone),
            });

        Assert.Equal([WhatsAppLinking.LinkedReply, "[Echo] linked?"], plan.Replies.Select(r => r.Body));
        Assert.All(plan.Replies, r => Assert.Equal(StrangerUserId, r.ToUserId));
        Assert.All(plan.History, h => Assert.Equal(newOwner, h.UserId));
    }

    [Fact]
    public void The_user_id_meta_pairs_with_a_linked_phone_is_recorded_with_its_account_once()
    {
        var first = Text("wamid.A", LinkedPhone, "hi") with { FromUserId = StrangerUserId, FromUsername = "sheena" };
        var second = Text("wamid.B", LinkedPhone, "again") with { FromUserId = StrangerUserId };

        var plan = Plan([Delivery(1, first, second)]);

        Assert.Equal([new UserIdAdoption(s_linkedUser, LinkedPhone, StrangerUserId, "sheena")], plan.Adoptions);
        Assert.All(plan.History, h => Assert.Equal(s_linkedUser, h.UserId));
    }

    [Fact]
    public void A_phones_next_holder_writing_with_another_user_id_is_a_stranger_to_the_account_the_phone_was_linked_for()
    {
        var newcomer = Text("wamid.NEW", RecycledPhone, "hi, new number") with { FromUserId = StrangerUserId };
        var previousHolder = Text("wamid.OLD", RecycledPhone, "still me") with { FromUserId = PreviousHolderUserId };

        var plan = Plan([Delivery(1, newcomer, previousHolder)]);

        Assert.Equal(["[Echo] still me"], plan.History.Where(h => h.Role == MessageRole.Assistant).Select(h => h.Content));
        Assert.DoesNotContain(plan.History, h => h.Content == "hi, new number");
        Assert.Equal(
            [(WhatsAppCloudApiOptions.DefaultRegistrationMessage, (Guid?)null), ("[Echo] still me", s_previousHolder)],
            plan.Replies.Select(r => (r.Body, r.UserId)));
        Assert.Empty(plan.Adoptions);
        Assert.Equal(
            [(Guid?)null, s_previousHolder],
            DeliveryPlanner.InboundRows([Delivery(1, newcomer, previousHolder)], s_users).Select(r => r.UserId));
    }

    [Fact]
    public void A_user_who_changed_number_writes_as_themselves_from_the_new_one_and_the_old_ones_next_holder_is_a_stranger()
    {
        const string NewPhone = "15551110009";
        var change = new PhoneNumberChange(LinkedPhone, NewPhone, UserId: null);
        var moved = new DecodedDelivery(1, s_token, new NotificationContents([], [], 0, PhoneChanges: [change]), null);

        var plan = Plan([moved, Delivery(2, Text("wamid.NEW", NewPhone, "new number")), Delivery(3, Text("wamid.OLD", LinkedPhone, "who?"))]);

        Assert.Equal([change], plan.PhoneChanges);
        Assert.Equal(
            [("[Echo] new number", (Guid?)s_linkedUser), (WhatsAppCloudApiOptions.DefaultRegistrationMessage, null)],
            plan.Replies.Select(r => (r.Body, r.UserId)));
    }

    [Fact]
    public void A_number_change_by_a_phones_next_holder_does_not_move_the_link_made_for_its_previous_one()
    {
        const string NewPhone = "15551110009";
        var change = new PhoneNumberChange(RecycledPhone, NewPhone, StrangerUserId);
        var moved = new DecodedDelivery(1, s_token, new NotificationContents([], [], 0, PhoneChanges: [change]), null);

        var plan = Plan([moved, Delivery(2, Text("wamid.NEW", NewPhone, "new number") with { FromUserId = StrangerUserId })]);

        Assert.Equal([WhatsAppCloudApiOptions.DefaultRegistrationMessage], plan.Replies.Select(r => r.Body));
    }

    [Fact]
    public void A_user_id_linked_to_somebody_else_is_not_recorded_with_the_phones_account()
    {
        var plan = Plan([Delivery(1, Text("wamid.A", LinkedPhone, "hi") with { FromUserId = LinkedUserId })]);

        Assert.Empty(plan.Adoptions);
    }

    [Fact]
    public void A_replaced_user_id_moves_the_link_for_the_messages_after_it_and_a_repeated_change_is_kept_once()
    {
        var change = new UserIdChange(LinkedUserId, "US.22222222222222222222");
        var afterwards = UsernameOnly("wamid.NEW", "US.22222222222222222222", "new id, same me");
        var updated = new DecodedDelivery(1, s_token, new NotificationContents([], [], 0, [change]), null);
        var again = new DecodedDelivery(2, s_token, new NotificationContents([afterwards], [], 0, [change]), null);

        var plan = Plan([updated, again]);

        Assert.Equal([change], plan.UserIdChanges);
        Assert.Equal("[Echo] new id, same me", Assert.Single(plan.Replies).Body);
        Assert.All(plan.History, h => Assert.Equal(s_userLinkedById, h.UserId));
    }

    [Fact]
    public void Every_phone_and_user_id_of_a_batch_is_looked_up_and_those_a_user_id_change_names()
    {
        var deliveries = new[]
        {
            Delivery(1, Text("wamid.A", LinkedPhone, "a") with { FromUserId = StrangerUserId }, UsernameOnly("wamid.B", LinkedUserId, "b")),
            new DecodedDelivery(2, s_token, new NotificationContents([], [], 0, [new UserIdChange("US.1", "US.2")]), null),
            new DecodedDelivery(3, s_token, null, null),
        };

        Assert.Equal(
            [LinkedPhone, StrangerUserId, "US.1", LinkedUserId, "US.2"],
            SenderOwners.SendersToLookUp(deliveries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_account_a_username_only_link_was_taken_from_is_told_by_the_username()
    {
        var previousOwner = Guid.CreateVersion7();
        var link = new LinkAttempt(null, "123456", Guid.CreateVersion7(), WhatsAppUserId: StrangerUserId, Username: "sheena");

        var notice = Assert.Single(DeliveryPlanner.MovedAwayNotices([(link, new WhatsAppLinkChange([previousOwner], [StrangerUserId]))], s_now));

        Assert.Equal(
            (previousOwner, "Your WhatsApp account sheena was linked to another Ava account. Its messages no longer appear here."),
            (notice.UserId, notice.Content));
    }

    [Fact]
    public void A_stranger_writing_many_times_is_a_registration_candidate_once_and_answered_only_where_the_throttle_allows()
    {
        var deliveries = new[]
        {
            Delivery(1, Text("wamid.A", UnlinkedPhone, "hello?"), Text("wamid.LINKED", LinkedPhone, "hi")),
            Delivery(2, Text("wamid.B", UnlinkedPhone, "anyone?"), Text("wamid.C", UnlinkedPhone, "hello!!")),
        };

        var unthrottled = Plan(deliveries);
        var firstAllowed = Plan(deliveries, registrationReplies: new HashSet<string> { "wamid.A" });
        var answeredBefore = Plan(deliveries, registrationReplies: new HashSet<string>());

        Assert.Equal(new Dictionary<string, string> { [UnlinkedPhone] = "wamid.A" }, unthrottled.RegistrationCandidates);
        Assert.Equal(["wamid.A", "wamid.B", "wamid.C", "wamid.LINKED"], unthrottled.Replies.Select(r => r.InboundWamid).Order(StringComparer.Ordinal));
        Assert.Equal(["wamid.A", "wamid.LINKED"], firstAllowed.Replies.Select(r => r.InboundWamid).Order(StringComparer.Ordinal));
        Assert.Equal(["wamid.LINKED"], answeredBefore.Replies.Select(r => r.InboundWamid));
        Assert.Equal(new Dictionary<string, int> { ["text"] = 4 }, answeredBefore.Received);
    }

    [Fact]
    public void Link_attempts_and_linked_senders_are_answered_whatever_the_registration_throttle_says()
    {
        var newOwner = Guid.NewGuid();
        var plan = Plan(
            [Delivery(1, Text("wamid.LINK", UnlinkedPhone, "LINK 123456"), Text("wamid.AFTER", UnlinkedPhone, "linked now?"), Text("wamid.WRONG", "15551110003", "LINK 000000"))],
            links: new()
            {
                ["wamid.LINK"] = new LinkAttempt(UnlinkedPhone, "123456", newOwner),
                ["wamid.WRONG"] = new LinkAttempt("15551110003", "000000", null),
            },
            registrationReplies: new HashSet<string>());

        Assert.Empty(plan.RegistrationCandidates);
        Assert.Equal(
            [WhatsAppLinking.LinkedReply, "[Echo] linked now?", WhatsAppLinking.WrongCodeReply],
            plan.Replies.Select(r => r.Body));
    }

    [Fact]
    public void A_message_that_does_not_name_its_business_number_is_answered_from_avas_own()
    {
        var message = Text("wamid.A", LinkedPhone, "which number?") with { PhoneNumberId = null };

        var plan = DeliveryPlanner.Plan(
            [Delivery(1, message)], s_users, new Dictionary<string, LinkAttempt>(), new HashSet<string> { "wamid.A" },
            s_rules with { DefaultPhoneNumberId = "100000000000009" }, s_now);

        Assert.Equal("100000000000009", Assert.Single(plan.Replies).PhoneNumberId);
    }

    [Fact]
    public void A_linked_users_media_is_kept_with_their_line_and_echoed_by_its_caption_while_a_strangers_is_not_fetched()
    {
        var photo = new IncomingMedia("image", "meta-1", "image/jpeg", "abc=", "a cat", null, Voice: false);
        var captioned = Text("wamid.P", LinkedPhone, "a cat", s_now.AddMinutes(-3)) with { Type = "image", Media = photo };
        var voiceNote = Text("wamid.V", LinkedPhone, "") with { Type = "audio", Text = null, Content = "[audio]", Media = photo with { Type = "audio", Caption = null, Voice = true } };
        var strangers = Text("wamid.S", UnlinkedPhone, "") with { Type = "image", Text = null, Content = "[image]", Media = photo };

        var plan = Plan([Delivery(1, captioned, voiceNote, strangers)]);

        Assert.Equal(
            [("wamid.P", "image", plan.History[0].Id, s_now.AddMinutes(-3) + TimeSpan.FromDays(7)), ("wamid.V", "audio", plan.History[2].Id, s_now.AddSeconds(-1) + TimeSpan.FromDays(7))],
            plan.Media.Select(m => (m.InboundWamid, m.Media.Type, m.MessageId, m.ExpiresAt)));
        Assert.All(plan.Media, m => Assert.Equal(s_linkedUser, m.UserId));
        Assert.Equal("a cat", plan.History[0].Content);
        Assert.Equal(["[Echo] a cat", WhatsAppCloudApiOptions.DefaultRegistrationMessage], plan.Replies.Select(r => r.Body));
    }

    [Fact]
    public void With_a_responder_a_linked_users_message_of_any_type_becomes_a_turn_with_their_line_in_history_and_no_echo()
    {
        var text = Text("wamid.T", LinkedPhone, "hello", s_now.AddSeconds(-5));
        var image = Text("wamid.I", LinkedPhone, "") with { Type = "image", Text = null, Content = "[image] a cat" };

        var plan = Plan([Delivery(1, text, image)], rules: s_rules with { ResponderAnswers = true });

        Assert.Empty(plan.Replies);
        Assert.Equal(
            [(MessageRole.User, "hello"), (MessageRole.User, "[image] a cat")],
            plan.History.Select(h => (h.Role, h.Content)));
        Assert.Equal(
            [("wamid.T", "text", "hello", plan.History[0].Id, s_now.AddSeconds(-5)), ("wamid.I", "image", "[image] a cat", plan.History[1].Id, s_now.AddSeconds(-1))],
            plan.Turns.Select(t => (t.InboundWamid, t.MessageType, t.Content, t.MessageId, t.WrittenAt)));
        var turn = plan.Turns[0];
        Assert.Equal((s_linkedUser, Ava, (string?)LinkedPhone, s_now.AddSeconds(-5) + TimeSpan.FromHours(24), "00-" + 1.ToString("x32") + "-" + 1.ToString("x16") + "-01"),
            (turn.UserId, turn.PhoneNumberId, turn.ToPhone, turn.ExpiresAt, turn.TraceParent));
    }

    [Fact]
    public void With_a_responder_strangers_links_and_system_notices_stay_avas_own()
    {
        var stranger = Text("wamid.S", UnlinkedPhone, "who are you?");
        var link = Text("wamid.LINK", UnlinkedPhone, "LINK 123456");
        var system = Text("wamid.SYS", LinkedPhone, "") with { Type = "system", Text = null, Content = "[system] changed number" };

        var plan = Plan(
            [Delivery(1, stranger, link, system)],
            links: new() { ["wamid.LINK"] = new LinkAttempt(UnlinkedPhone, "123456", Guid.CreateVersion7()) },
            rules: s_rules with { ResponderAnswers = true });

        Assert.Empty(plan.Turns);
        Assert.Equal(["wamid.S", "wamid.LINK"], plan.Replies.Select(r => r.InboundWamid));
    }

    [Fact]
    public void A_message_seen_before_makes_no_second_turn()
    {
        var plan = Plan(
            [Delivery(1, Text("wamid.SEEN", LinkedPhone, "again"))],
            newWamids: new HashSet<string>(),
            rules: s_rules with { ResponderAnswers = true });

        Assert.Empty(plan.Turns);
        Assert.Equal(1, plan.Duplicates);
    }

    private static DeliveryPlan Plan(
        IReadOnlyList<DecodedDelivery> deliveries,
        Dictionary<string, LinkAttempt>? links = null,
        IReadOnlySet<string>? newWamids = null,
        IReadOnlySet<string>? registrationReplies = null,
        PlanningRules? rules = null) =>
        DeliveryPlanner.Plan(
            deliveries,
            s_users,
            links ?? [],
            newWamids ?? deliveries.SelectMany(d => d.Contents?.Messages ?? []).Select(m => m.Wamid).ToHashSet(),
            rules ?? s_rules,
            s_now,
            registrationReplies);

    private static DecodedDelivery Delivery(long id, params IncomingMessage[] messages) =>
        new(id, s_token, new NotificationContents(messages, [], 0), $"00-{id:x32}-{id:x16}-01");

    private static IncomingMessage Text(string wamid, string from, string text, DateTimeOffset? sentAt = null) =>
        new(wamid, Ava, from, null, "text", text, text, sentAt ?? s_now.AddSeconds(-1));

    /// <summary>From a user who adopted a username: Meta names their user id and withholds their phone.</summary>
    private static IncomingMessage UsernameOnly(string wamid, string userId, string text) =>
        new(wamid, Ava, null, userId, "text", text, text, s_now.AddSeconds(-1));
}
