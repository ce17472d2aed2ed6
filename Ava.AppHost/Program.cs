using Microsoft.Extensions.Configuration;
using Ava.AppHost.Infrastructure;
using Ava.AppHost.WhatsApp;

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

var (database, cache, _) = infrastructure;

var migrations = builder.AddProject<Projects.Ava_MigrationService>("migrations")
    .WithReference(database)
    .WaitFor(database);

// Meta's webhook; talks to the real Graph API when a token is configured, to the simulator otherwise.
// Any number of instances may run side by side (Ava:WebhookReplicas): they share the inbox and outbox safely.
builder.AddProject<Projects.Ava_WebhookApi>("webhookapi")
    .WithReplicas(builder.Configuration.GetValue("Ava:WebhookReplicas", 1))
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations)
    .WithWebhookSpool(infrastructure)
    .WithWhatsAppCloudApi();

builder.AddProject<Projects.Ava_MessagesApi>("messagesapi")
    .WithHttpHealthCheck("/health")
    .WithReference(database)
    .WithReference(cache)
    .WaitFor(cache)
    .WaitForCompletion(migrations);

builder.Build().Run();
return 0;
