using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;

namespace Ava.Tests.Integration;

[Collection(AvaStackCollection.Name)]
public sealed partial class MessagesApiTests(AvaStackFixture stack)
{
    private readonly AvaTokens _tokens = new(stack);
    private readonly AvaDatabase _database = new(stack);

    public static TheoryData<string> BadTokens => ["missing", "expired", "wrong-signature", "wrong-audience", "alg-none", "garbage"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Requests_without_a_valid_token_are_unauthorized(string kind)
    {
        var userId = Guid.NewGuid();
        string? token = kind switch
        {
            "missing" => null,
            "expired" => await _tokens.ForAsync(userId, expiresIn: TimeSpan.FromMinutes(-5)),
            "wrong-signature" => await _tokens.ForAsync(userId, secret: new string('x', 64)),
            "wrong-audience" => await _tokens.ForAsync(userId, audience: "anon"),
            "alg-none" => AvaTokens.Unsigned(userId),
            _ => "not.a.token",
        };
        using var client = stack.CreateHttpClient("messagesapi");
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.GetAsync("/messages", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_first_call_of_an_unknown_user_gets_an_empty_history()
    {
        using var client = await _tokens.ClientForAsync(Guid.NewGuid());

        var page = await GetPageAsync(client, "/messages");

        Assert.Empty(page.Items);
        Assert.Null(page.NextLink);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=201")]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("limit=1.5")]
    [InlineData("channel=sms")]
    [InlineData("before=not-a-cursor")]
    [InlineData("before=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!")]
    public async Task Bad_parameters_are_a_400_problem_naming_the_parameter(string query)
    {
        using var client = await _tokens.ClientForAsync(Guid.NewGuid());

        using var response = await client.GetAsync($"/messages?{query}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
        Assert.True(problem.GetProperty("errors").TryGetProperty(query.Split('=')[0], out _));
    }

    [Fact]
    public async Task History_is_newest_first_with_the_plans_field_names()
    {
        var userId = Guid.NewGuid();
        var avatarId = Guid.NewGuid();
        await InsertMessageAsync(userId, "app", "user", "older", DateTimeOffset.UtcNow.AddMinutes(-2), avatarId);
        await InsertMessageAsync(userId, "whatsapp", "assistant", "newer", DateTimeOffset.UtcNow.AddMinutes(-1));
        using var client = await _tokens.ClientForAsync(userId);

        var json = await client.GetFromJsonAsync<JsonElement>("/messages", TestContext.Current.CancellationToken);

        Assert.Equal(JsonValueKind.Array, json.ValueKind);
        var items = json.EnumerateArray().ToList();
        Assert.Equal(["newer", "older"], items.Select(i => i.GetProperty("content").GetString()));
        var older = items[1];
        Assert.Equal(
            ["id", "user_id", "avatar_id", "channel", "role", "content", "created_at", "delivery_status", "media"],
            older.EnumerateObject().Select(p => p.Name));
        Assert.Equal(userId, older.GetProperty("user_id").GetGuid());
        Assert.Equal(avatarId, older.GetProperty("avatar_id").GetGuid());
        Assert.Equal("app", older.GetProperty("channel").GetString());
        Assert.Equal("user", older.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, older.GetProperty("media").ValueKind);
    }

    [Fact]
    public async Task Limit_and_channel_select_what_a_front_end_asks_for()
    {
        var userId = Guid.NewGuid();
        for (var i = 0; i < 4; i++)
        {
            await InsertMessageAsync(userId, i % 2 == 0 ? "app" : "whatsapp", "user", $"m{i}", DateTimeOffset.UtcNow.AddMinutes(i - 10));
        }

        using var client = await _tokens.ClientForAsync(userId);

        Assert.Equal(["m3"], (await GetPageAsync(client, "/messages?limit=1")).Items.Select(i => i.Content));
        Assert.Equal(["m3", "m1"], (await GetPageAsync(client, "/messages?channel=whatsapp")).Items.Select(i => i.Content));
        Assert.Equal(["m2", "m0"], (await GetPageAsync(client, "/messages?channel=app")).Items.Select(i => i.Content));
    }

    [Fact]
    public async Task Following_the_next_links_sees_every_message_once_while_new_ones_arrive()
    {
        var userId = Guid.NewGuid();
        var sameInstant = DateTimeOffset.UtcNow.AddMinutes(-30);
        var expected = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            // Two messages share a timestamp: the id breaks the tie, so neither is skipped nor repeated.
            var at = i is 3 or 4 ? sameInstant : sameInstant.AddMinutes(i - 3);
            await InsertMessageAsync(userId, "whatsapp", "user", $"m{i}", at);
            expected.Add($"m{i}");
        }

        using var client = await _tokens.ClientForAsync(userId);
        var seen = new List<string>();
        var page = await GetPageAsync(client, "/messages?limit=3");
        seen.AddRange(page.Items.Select(i => i.Content));
        var pages = 1;
        while (page.NextLink is { } next)
        {
            await InsertMessageAsync(userId, "whatsapp", "user", $"arrived before page {pages + 1}", DateTimeOffset.UtcNow);
            page = await GetPageAsync(client, next);
            seen.AddRange(page.Items.Select(i => i.Content));
            pages++;
        }

        Assert.Equal(expected.Count, seen.Count);
        Assert.Equal(expected.Order(), seen.Order());
        Assert.Equal(["m6", "m5"], seen.Take(2));
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task The_next_link_asks_the_same_question_one_page_further()
    {
        var userId = Guid.NewGuid();
        for (var i = 0; i < 6; i++)
        {
            await InsertMessageAsync(userId, i % 2 == 0 ? "app" : "whatsapp", "user", $"m{i}", DateTimeOffset.UtcNow.AddMinutes(i - 10));
        }

        using var client = await _tokens.ClientForAsync(userId);
        var first = await GetPageAsync(client, "/messages?channel=whatsapp&limit=2");
        var second = await GetPageAsync(client, first.NextLink!);

        Assert.Matches("^/messages/?\\?channel=whatsapp&limit=2&before=[A-Za-z0-9_-]{32}$", first.NextLink);
        Assert.Equal(["m5", "m3"], first.Items.Select(i => i.Content));
        Assert.Equal(["m1"], second.Items.Select(i => i.Content));
        Assert.Null(second.NextLink);
    }

    [Fact]
    public async Task A_history_that_ends_exactly_at_a_page_boundary_has_no_next_link()
    {
        var userId = Guid.NewGuid();
        for (var i = 0; i < 3; i++)
        {
            await InsertMessageAsync(userId, "app", "user", $"m{i}", DateTimeOffset.UtcNow.AddMinutes(i - 10));
        }

        using var client = await _tokens.ClientForAsync(userId);
        var page = await GetPageAsync(client, "/messages?limit=3");

        Assert.Equal(3, page.Items.Count);
        Assert.Null(page.NextLink);
    }

    [Fact]
    public async Task The_api_reference_describes_an_array_of_messages_and_the_next_link()
    {
        using var client = stack.CreateHttpClient("messagesapi");

        var document = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json", TestContext.Current.CancellationToken);

        var ok = document.GetProperty("paths").EnumerateObject().Single(path => path.Name.TrimEnd('/') == "/messages")
            .Value.GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.Equal("array", ok.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("type").GetString());
        Assert.Equal("string", ok.GetProperty("headers").GetProperty("Link").GetProperty("schema").GetProperty("type").GetString());

        // The reference sends the bearer token it asks for.
        var requirement = Assert.Single(document.GetProperty("paths").EnumerateObject().Single(path => path.Name.TrimEnd('/') == "/messages")
            .Value.GetProperty("get").GetProperty("security").EnumerateArray());
        Assert.Equal(BearerSecurityScheme.Name, Assert.Single(requirement.EnumerateObject()).Name);
    }

    [Fact]
    public async Task A_user_never_sees_another_users_messages_through_any_parameter()
    {
        var (alice, bob) = (Guid.NewGuid(), Guid.NewGuid());
        await InsertMessageAsync(alice, "app", "user", "alice's", DateTimeOffset.UtcNow.AddMinutes(-5));
        var bobsNewest = await InsertMessageAsync(bob, "whatsapp", "user", "bob's", DateTimeOffset.UtcNow.AddMinutes(-1));
        await InsertMessageAsync(bob, "app", "user", "bob's older", DateTimeOffset.UtcNow.AddMinutes(-9));
        using var client = await _tokens.ClientForAsync(alice);
        var bobsNextLink = (await GetPageAsync(await _tokens.ClientForAsync(bob), "/messages?limit=1")).NextLink!;
        var bobsCursor = bobsNextLink[(bobsNextLink.IndexOf("before=", StringComparison.Ordinal) + "before=".Length)..];

        foreach (var query in new[] { "", "?limit=200", "?channel=whatsapp", "?channel=app", $"?before={bobsCursor}", $"?user_id={bob}" })
        {
            var page = await GetPageAsync(client, "/messages" + query);
            Assert.All(page.Items, item => Assert.Equal(alice, item.UserId));
            Assert.DoesNotContain(page.Items, item => item.Id == bobsNewest);
        }
    }

    private async Task<Guid> InsertMessageAsync(Guid userId, string channel, string role, string content, DateTimeOffset createdAt, Guid? avatarId = null)
    {
        var id = Guid.NewGuid();
        await _database.ExecuteAsync(
            "INSERT INTO messages (id, user_id, avatar_id, channel, role, content, created_at) VALUES ($1, $2, $3, $4::message_channel, $5::message_role, $6, $7)",
            id, userId, avatarId, channel, role, content, createdAt);
        return id;
    }

    /// <summary>A page: the body's array, and the URL of the next page from its <c>Link: &lt;…&gt;; rel="next"</c> header.</summary>
    private static async Task<Page> GetPageAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.Content.ReadFromJsonAsync<List<Item>>(TestContext.Current.CancellationToken))!;
        string? nextLink = null;
        if (response.Headers.TryGetValues("Link", out var links))
        {
            var next = NextLink().Match(Assert.Single(links));
            Assert.True(next.Success, $"Not a rel=\"next\" link: {string.Join(", ", links)}");
            nextLink = next.Groups["url"].Value;
        }

        return new Page(items, nextLink);
    }

    [GeneratedRegex("""^<(?<url>[^>]+)>; rel="next"$""")]
    private static partial Regex NextLink();

    private sealed record Page(List<Item> Items, string? NextLink);

    private sealed record Item(
        [property: JsonPropertyName("id")] Guid Id,
        [property: JsonPropertyName("user_id")] Guid UserId,
        [property: JsonPropertyName("content")] string Content,
        [property: JsonPropertyName("delivery_status")] string? DeliveryStatus);
}
