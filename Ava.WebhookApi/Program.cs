using Ava.WebhookApi.Admin;
using Ava.WebhookApi.WhatsApp;
using Ava.WebhookApi.WhatsApp.Receiving;
using Ava.WebhookApi.WhatsApp.Storage;
using Scalar.AspNetCore;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddAvaDataSource(WebhookDataSource.Configure);
builder.AddRedisClient("cache");
builder.AddWhatsApp();
builder.AddWebhookProtection();
builder.AddAdminAccess();
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi(options => options.AddOperationTransformer(
    new BearerSecurityScheme("An admin token for /admin: HS256 with the admin key of its own (Admin:Secret, the admin-jwt-secret parameter), issuer ava-admin, audience ava-webhook-admin, role service_role, at most 15 minutes; scripts/token.sh --service-role mints one in development.")));

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseWebhookProtection();
app.UseAdminOffTunnels();

// Only endpoints that ask for it (the admin group) authenticate; after the status-code pages, so that 401 and 403
// are problem documents.
app.UseAuthorization();

if (app.Environment.IsDevelopment())
{
    app.MapOpenApi();
    app.MapScalarApiReference();
}

app.MapWhatsAppWebhook();
app.MapAdmin();
app.MapDefaultEndpoints();

app.Run();
