using Ava.AppHost;
using Ava.AppHost.Infrastructure;
using Ava.AppHost.Tunnels;
using Ava.AppHost.WhatsApp;
using Ava.Data.Users;
using Ava.Data.WhatsApp;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

AvaInfrastructure infrastructure;
try
{
    // Postgres (database "ava") and Redis ("cache"): containers where an engine answers, local executables otherwise.
    infrastructure = builder.AddAvaInfrastructure();
}
catch (InfrastructureUnavailableException exception)
{
    Console.Error.WriteLine(exception.Message);
    return 1;
}

var (database, cache, _, _) = infrastructure;

// Users' tokens and service-role (admin) tokens are Supabase-style HS256 with this secret (or OIDC for users, see README).
var jwtSecret = builder.AddParameter("jwt-secret", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

// Each API logs in as its own least-privileged role; the migrations create the logins and give them these passwords.
var webhookDbPassword = builder.AddParameter(
    "webhook-db-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
var messagesDbPassword = builder.AddParameter(
    "messages-db-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);

var migrations = builder.AddProject<Projects.Ava_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database)
    .WithEnvironment("WebhookApi__DatabasePassword", webhookDbPassword)
    .WithEnvironment("MessagesApi__DatabasePassword", messagesDbPassword);

// Meta's webhook; talks to the real Graph API when a token is configured, to the simulator otherwise.
// Any number of instances may run side by side (Ava:WebhookReplicas): they share the inbox and outbox safely.
builder.AddProject<Projects.Ava_WebhookApi>("webhookapi")
    .WithReplicas(builder.Configuration.GetValue("Ava:WebhookReplicas", 1))
    .WithHttpHealthCheck("/health")
    .WithEnvironment("ConnectionStrings__ava", infrastructure.DatabaseConnectionStringFor(WebhookDataAccess.LoginRole, webhookDbPassword))
    .WaitFor(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithWebhookSpool(infrastructure)
    .WithWhatsAppCloudApi()
    // Ava:Tunnel (run mode): cloudflared, ngrok or devtunnel in front of it, so that Meta reaches this machine.
    .WithTunnel()
    // Failed deliveries and replies are listed and replayed through /admin, with service-role tokens.
    .WithEnvironment("Auth__Secret", jwtSecret)
    .WithReplayCommand(jwtSecret)
    .WithApiReference();

// Signed-in users' history and WhatsApp linking.
builder.AddProject<Projects.Ava_MessagesApi>("messagesapi")
    .WithHttpHealthCheck("/health")
    .WithEnvironment("ConnectionStrings__ava", infrastructure.DatabaseConnectionStringFor(UserDataAccess.LoginRole, messagesDbPassword))
    .WaitFor(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithEnvironment("Auth__Secret", jwtSecret)
    .WithApiReference();

builder.Build().Run();
return 0;
