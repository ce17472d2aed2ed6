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
builder.Services.AddProblemDetails();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseWebhookProtection();

if (app.Environment.IsDevelopment())
{
    app.MapOpenApi();
    app.MapScalarApiReference();
}

app.MapWhatsAppWebhook();
app.MapDefaultEndpoints();

app.Run();
