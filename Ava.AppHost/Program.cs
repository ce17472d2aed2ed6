using Ava.AppHost;
using Ava.AppHost.Responding;
using Ava.AppHost.Tunnels;
using Ava.AppHost.WhatsApp;
using Ava.Data;
using Ava.Hosting.Local;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);

// Postgres and Redis run as containers where an engine answers and always when published, as the machine's own
// binaries otherwise (Ava:Infrastructure). Where neither can, the AppHost stops here with one line naming what to install.
if (!builder.TryChooseInfrastructure(out var exitCode))
{
    return exitCode;
}

var postgres = builder.AddPostgresServer("postgres", dataVolumeName: "ava-postgres-data", PostgresTuning.Settings);
var database = postgres.AddDatabase("ava");
var cache = builder.AddRedisServer("cache", dataVolumeName: "ava-redis-data");

// Users' tokens are Supabase-style HS256 with this secret (or OIDC, see README); only the messages API holds it.
var jwtSecret = builder.AddParameter("jwt-secret", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

// The admin key: signs the tokens the webhook's /admin endpoints take. Its own, so that the internet-facing webhook
// holds no key that mints users' tokens, and the users' key (Supabase's) opens no admin endpoint.
var adminJwtSecret = builder.AddParameter("admin-jwt-secret", new GenerateParameterDefault { MinLength = 48, Special = false }, secret: true, persist: true);

// Each API logs in as its own least-privileged role; the migrations create the logins and give them these passwords.
var webhookDbPassword = builder.AddParameter("webhook-db-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
var messagesDbPassword = builder.AddParameter("messages-db-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true);
var webhookLogin = database.AddLogin("webhook-db", DatabaseLogins.Webhook, webhookDbPassword);
var messagesLogin = database.AddLogin("messages-db", DatabaseLogins.MessagesApi, messagesDbPassword);

var migrations = builder.AddProject<Projects.Ava_MigrationService>("migrations")
    .WithReference(database).WaitFor(database)
    .WithEnvironment("WebhookApi__DatabasePassword", webhookDbPassword)
    .WithEnvironment("MessagesApi__DatabasePassword", messagesDbPassword);

// Meta's Graph API: the real one when an access token is configured or Ava is published, the simulator (below) otherwise.
var whatsApp = builder.AddWhatsAppCloudApi();

// Who answers linked users: Ava's echo, a responder at responder-url, or (Ava:Responder=sample) the sample responder.
var responder = builder.AddResponder();

// Meta's webhook. Any number of instances may run side by side (Ava:WebhookReplicas; two when published): they share
// inbox, outbox and spool.
var webhook = builder.AddProject<Projects.Ava_WebhookApi>("webhookapi")
    .WithReplicas(builder.Configuration.GetValue("Ava:WebhookReplicas", builder.ExecutionContext.IsPublishMode ? 2 : 1))
    // Degraded (the access token refused) shows as such in the dashboard, not as healthy.
    .WithHealthStatusCheck("/health")
    .WithReference(webhookLogin, "ava").WaitFor(database)
    .WithReference(cache).WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithStateVolume("webhook-spool", "WhatsApp__SpoolDirectory")
    .WithWhatsAppCloudApi(whatsApp)
    .WithResponder(responder)
    // Ava:Tunnel (run mode): cloudflared, ngrok or devtunnel in front of it, so that Meta reaches this machine
    // (in Development the webhook answers /admin only to requests that did not come through a tunnel).
    .WithTunnel()
    // Failed deliveries, replies and turns are listed and replayed through /admin, with tokens signed with the admin key.
    .WithEnvironment("Admin__Secret", adminJwtSecret)
    .WithReplayCommand(adminJwtSecret)
    .WithApiReference();

if (whatsApp.IsSimulated)
{
    builder.AddProject<Projects.Ava_WhatsAppSimulator>(WhatsAppCloudApiExtensions.SimulatorName)
        .WithHttpHealthCheck("/health")
        .WithUrlForEndpoint("http", url => url.DisplayText = "Chat with Ava")
        .WithReference(webhook)
        .PlaysWhatsAppCloudApiFor(webhook, whatsApp);
}

if (responder.IsSample)
{
    builder.AddProject<Projects.Ava_SampleResponder>(ResponderExtensions.SampleName)
        .WithHttpHealthCheck("/health")
        .AnswersTurnsFor(webhook, responder);
}

// Signed-in users' history and WhatsApp linking.
builder.AddProject<Projects.Ava_MessagesApi>("messagesapi")
    .WithHttpHealthCheck("/health")
    .WithReference(messagesLogin, "ava").WaitFor(database)
    .WithReference(cache).WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithEnvironment("Auth__Secret", jwtSecret)
    .WithApiReference();

builder.Build().Run();
return 0;
