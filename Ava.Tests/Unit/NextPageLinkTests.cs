using Ava.MessagesApi.Messages;
using Microsoft.AspNetCore.Http;

namespace Ava.Tests.Unit;

/// <summary>The <c>Link</c> header that leads a client from one page of history to the next.</summary>
public sealed class NextPageLinkTests
{
    private static readonly MessageCursor s_cursor = new(
        new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero), Guid.Parse("0196a8a0-0000-7000-8000-00000000000a"));

    private static string Link(string pathBase, string path, string query) =>
        NextPageLink.Format(new PathString(pathBase), new PathString(path), new QueryString(query), s_cursor);

    [Fact]
    public void The_next_page_is_the_same_request_with_the_last_messages_cursor_as_an_RFC_8288_link()
    {
        Assert.Equal($"</messages?limit=50&before={s_cursor}>; rel=\"next\"", Link("", "/messages", "?limit=50"));
    }

    [Fact]
    public void A_request_without_parameters_gets_only_the_cursor()
    {
        Assert.Equal($"</messages?before={s_cursor}>; rel=\"next\"", Link("", "/messages", ""));
    }

    [Fact]
    public void The_previous_cursor_is_replaced_and_every_other_parameter_kept_in_order()
    {
        Assert.Equal(
            $"</messages?channel=whatsapp&limit=3&x=1&x=2&before={s_cursor}>; rel=\"next\"",
            Link("", "/messages", "?channel=whatsapp&before=older-cursor&limit=3&x=1&x=2"));
    }

    [Fact]
    public void Under_a_path_base_the_link_keeps_the_prefix_the_api_is_mounted_under()
    {
        Assert.Equal($"</ava/api/messages?limit=2&before={s_cursor}>; rel=\"next\"", Link("/ava/api", "/messages", "?limit=2"));
    }

    [Fact]
    public void Whatever_the_caller_sent_is_encoded_so_that_it_cannot_end_the_link_or_add_a_parameter()
    {
        var link = Link("/a b", "/messages", "?channel=%3E%3B%20rel%3D%22prev%22&q=a%26before%3Dx");

        Assert.Equal(
            $"</a%20b/messages?channel=%3E;%20rel%3D%22prev%22&q=a%26before%3Dx&before={s_cursor}>; rel=\"next\"", link);
    }

    [Fact]
    public void The_cursor_in_the_link_reads_back_as_the_same_position()
    {
        var link = Link("", "/messages", "?limit=1");
        var cursor = link[(link.IndexOf("before=", StringComparison.Ordinal) + "before=".Length)..link.IndexOf('>', StringComparison.Ordinal)];

        Assert.True(MessageCursor.TryParse(Uri.UnescapeDataString(cursor), out var read));
        Assert.Equal(s_cursor, read);
    }
}
