using System.Text;
using Ava.Hosting.Local;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Ava.Tests.Integration;

/// <summary>
/// The roles the migrations create are as separate on the local cluster as in a container: every login, the
/// superuser's too, needs that role's own password. (That the services log in with theirs, the rest of the suite
/// proves.)
/// </summary>
[Collection(AvaStackCollection.Name)]
public sealed class LocalInfrastructurePasswordTests(AvaStackFixture stack)
{
    [Theory]
    [InlineData(WebhookDataAccess.LoginRole)]
    [InlineData(UserDataAccess.LoginRole)]
    [InlineData(LocalPostgresServerResource.SuperUser)]
    public async Task A_login_with_a_wrong_password_is_refused(string role)
    {
        await using var connection = new NpgsqlConnection(await ConnectionStringAsync(role, "not-the-password"));

        var refused = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));

        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
    }

    [Fact]
    public async Task The_superuser_is_asked_for_its_password_and_admitted_only_with_it()
    {
        await using var withoutPassword = new NpgsqlConnection(await ConnectionStringAsync(LocalPostgresServerResource.SuperUser, password: null));
        await using var withPassword = new NpgsqlConnection(await stack.GetConnectionStringAsync(AvaDataExtensions.ConnectionName));

        // Npgsql sends no empty password: it refuses on the server's behalf, once the server has asked for one.
        var refused = await Assert.ThrowsAsync<NpgsqlException>(() => withoutPassword.OpenAsync(TestContext.Current.CancellationToken));
        Assert.Contains("No password has been provided but the backend requires one", refused.Message, StringComparison.Ordinal);

        await withPassword.OpenAsync(TestContext.Current.CancellationToken);
        await using var who = new NpgsqlCommand("SELECT current_user", withPassword);
        Assert.Equal(LocalPostgresServerResource.SuperUser, await who.ExecuteScalarAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task No_file_keeps_the_superusers_password_once_the_cluster_is_initialised()
    {
        var init = stack.App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .OfType<ExecutableResource>().SingleOrDefault(r => r.Name == "postgres-init");
        Assert.SkipWhen(init is null, "Postgres runs in a container.");
        var password = Encoding.UTF8.GetBytes(await stack.GetParameterAsync("postgres-password"));

        // initdb ran in the stack's data directory, where Postgres and Redis keep their data.
        var holders = Directory.EnumerateFiles(init.WorkingDirectory, "*", SearchOption.AllDirectories)
            .Where(file => Contents(file).AsSpan().IndexOf(password) >= 0);

        Assert.Empty(holders);
    }

    /// <summary>The stack's own connection to Ava's database (as the superuser), as another login.</summary>
    private async Task<string> ConnectionStringAsync(string role, string? password) =>
        new NpgsqlConnectionStringBuilder(await stack.GetConnectionStringAsync(AvaDataExtensions.ConnectionName))
        {
            Username = role,
            Password = password,
            Pooling = false,
        }.ConnectionString;

    private static byte[] Contents(string file)
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            // A temporary file of the running server, gone meanwhile.
            return [];
        }
    }
}
